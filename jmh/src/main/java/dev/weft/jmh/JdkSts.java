package dev.weft.jmh;

import java.util.concurrent.Callable;
import java.util.concurrent.StructuredTaskScope;
import java.util.function.Supplier;

/**
 * The only class of this module that uses {@link StructuredTaskScope}, a preview API in JDK 25
 * (JEP 505). It is compiled on its own with {@code --release 25 --enable-preview} and loaded by name
 * from {@link Sts}, so that the rest of the module builds and runs on any JDK &ge; 21.
 *
 * <p>It uses only {@code open()}, {@code fork(Callable)}, {@code join()} and {@code close()}, and
 * never spells the scope's type arguments ({@code var}) nor the exception {@code join()} throws
 * when a subtask fails (it catches {@code Exception}): JDK 26 (JEP 525) and JDK 27 (JEP 533, which
 * adds a type parameter for that exception) changed other parts of the API. To build against
 * another JDK: {@code -Dweft.jmh.previewRelease=N -Dweft.jmh.jdk=[N,N+1)}; see jmh/README.md.
 */
public final class JdkSts implements Sts.Factory {

    /** Reflective entry point, called by {@link Sts}. */
    public JdkSts() {
    }

    @Override
    public Sts.Scope open() {
        var scope = StructuredTaskScope.open();
        return new Sts.Scope() {
            @Override
            public <T> Supplier<T> fork(Callable<? extends T> task) {
                return scope.fork(task);
            }

            @Override
            public boolean join() throws InterruptedException {
                try {
                    scope.join();
                    return true;
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception failed) {         // FailedException in JDK 25: a subtask failed
                    return false;
                }
            }

            @Override
            public void close() {
                scope.close();
            }

            @Override
            public void cancelAndClose() {
                try {
                    scope.close();
                } catch (IllegalStateException expected) {
                    // "Owner did not join after forking": close() has cancelled and waited already
                }
            }
        };
    }
}
