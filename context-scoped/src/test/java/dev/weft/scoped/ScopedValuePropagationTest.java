package dev.weft.scoped;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.ContextPropagator;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * ScopedValue bindings in subtasks, on JDK 25, run against the packaged multi-release jar; and the
 * jar's base class, which JDK 21 to 24 load, failing clearly.
 */
class ScopedValuePropagationTest {

    static final ScopedValue<String> USER = ScopedValue.newInstance();
    static final ScopedValue<String> TENANT = ScopedValue.newInstance();
    static final ScopedValue<String> UNLISTED = ScopedValue.newInstance();

    static String read(ScopedValue<String> key) {
        return key.isBound() ? key.get() : "unbound";
    }

    static String readAll() {
        return read(USER) + "/" + read(TENANT) + "/" + read(UNLISTED);
    }

    /** Forks {@code body} in a nested scope with the inherited configuration and returns its result. */
    static <V> V inNestedScope(Callable<V> body) throws Exception {
        try (var scope = TaskScope.open(Joiner.<V>allSuccessfulOrThrow())) {
            scope.fork(body);
            return scope.join().get(0);
        }
    }

    @Test
    @Timeout(10)
    void theJarsJdk25Class_isTheOneLoaded() {
        assertThat(ScopedValues.isSupported()).isTrue();
        assertThat(ScopedValues.class.getProtectionDomain().getCodeSource().getLocation().getPath()).endsWith(".jar");
    }

    @Test
    @Timeout(10)
    void boundKeys_areBoundInSubtasksToTheSameValues_unboundOnesStayUnbound() throws Exception {
        String seen = ScopedValue.where(USER, "alice").where(UNLISTED, "x").call(() -> {
            try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(),
                    c -> c.withContext(ScopedValues.propagator(USER, TENANT)))) {
                scope.fork(ScopedValuePropagationTest::readAll);
                return scope.join().get(0);
            }
        });
        assertThat(seen).isEqualTo("alice/unbound/unbound");      // TENANT not bound on the owner; UNLISTED not listed
    }

    @Test
    @Timeout(10)
    void withoutThePropagator_weftSubtasksInheritNoBinding() throws Exception {
        String seen = ScopedValue.where(USER, "alice").call(() -> {
            try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow())) {
                scope.fork(ScopedValuePropagationTest::readAll);
                return scope.join().get(0);
            }
        });
        assertThat(seen).isEqualTo("unbound/unbound/unbound");
    }

    @Test
    @Timeout(10)
    void nestedScopes_threeDeep_inheritTheBindings_andARebindingPassesDown() throws Exception {
        List<String> seen = ScopedValue.where(USER, "alice").where(TENANT, "acme").call(() -> {
            try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(),
                    c -> c.withContext(ScopedValues.propagator(USER, TENANT)))) {
                scope.fork(() -> inNestedScope(() -> inNestedScope(ScopedValuePropagationTest::readAll)));
                scope.fork(() -> ScopedValue.where(USER, "bob").call(        // the subtask rebinds, then forks deeper
                        () -> inNestedScope(() -> inNestedScope(ScopedValuePropagationTest::readAll))));
                scope.fork(() -> {
                    String inner = ScopedValue.where(USER, "carol").call(() -> inNestedScope(() -> read(USER)));
                    return inner + "," + read(USER);                           // its own binding is back
                });
                List<String> results = scope.join();
                assertThat(readAll()).isEqualTo("alice/acme/unbound");         // the owner's, unchanged after join
                return results;
            }
        });
        assertThat(seen).containsExactly("alice/acme/unbound", "bob/acme/unbound", "carol,alice");
    }

    @Test
    @Timeout(10)
    void withThreadLocalPropagators_andOnPlatformThreads_bindingEndsWithTheBody() throws Exception {
        ThreadLocal<String> request = new ThreadLocal<>();
        request.set("r-1");
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        ContextPropagator observe = () -> () -> {
            events.add("install observe: " + read(USER));
            return () -> events.add("restore observe: " + read(USER));
        };
        ThreadFactory platform = Thread.ofPlatform().factory();
        try {
            String seen = ScopedValue.where(USER, "alice").call(() -> {
                try (var scope = TaskScope.open(Joiner.<String>allSuccessfulOrThrow(),
                        c -> c.withThreadFactory(platform).withContext(observe).withContext(ScopedValues.propagator(USER))
                                .withContext(ContextPropagator.ofThreadLocals(request)))) {
                    scope.fork(() -> Thread.currentThread().isVirtual() + ":" + read(USER) + ":" + request.get());
                    return scope.join().get(0);
                }
            });
            assertThat(seen).isEqualTo("false:alice:r-1");
            assertThat(events).containsExactly("install observe: unbound", "restore observe: unbound");
        } finally {
            request.remove();
        }
    }

    @Test
    @Timeout(10)
    void migrationExample_subtasksSeeTheBinding() throws Exception {
        assertThat(ScopedValueMigrationExample.audit("alice", List.of("read", "write")))
                .containsExactly("alice did read", "alice did write");
    }

    @Test
    @Timeout(10)
    void snapshot_isOnlyForWrapping_installExplainsWhy() {
        ContextPropagator.Snapshot snapshot = ScopedValue.where(USER, "alice").call(() -> ScopedValues.propagator(USER).capture());
        assertThatThrownBy(snapshot::install).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("made around a call");
    }

    @Test
    @Timeout(10)
    void propagator_badArguments_throwWithWhatToDo() {
        assertThatThrownBy(() -> ScopedValues.propagator((ScopedValue<?>[]) null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> ScopedValues.propagator(USER, null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("keys[1]");
        assertThatThrownBy(ScopedValues::propagator)
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one ScopedValue");
    }

    // ---------------------------------------------------------------------------------------
    // The base class of the multi-release jar: what JDK 21 to 24 load

    @Test
    @Timeout(10)
    void baseClass_forJdk21To24_isUnsupported_andThrowsSayingWhatToDo() throws Exception {
        Class<?> base = new BaseClassLoader(Path.of(System.getProperty("weft.scoped.baseClasses")))
                .loadClass(ScopedValues.class.getName());
        assertThat(base).isNotSameAs(ScopedValues.class);
        assertThat(base.getMethod("isSupported").invoke(null)).isEqualTo(false);
        Method propagator = base.getMethod("propagator", ScopedValue[].class);     // the same signature as on 25
        assertThat(propagator.getReturnType()).isSameAs(ContextPropagator.class);
        assertThatThrownBy(() -> propagator.invoke(null, (Object) new ScopedValue<?>[] {USER}))
                .isInstanceOf(InvocationTargetException.class)
                .cause().isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("needs JDK 25 or later")
                .hasMessageContaining("ContextPropagator.ofThreadLocals");
    }

    /** Loads dev.weft.scoped classes from the base (non-versioned) class files; all else from the parent. */
    static final class BaseClassLoader extends ClassLoader {
        private final Path classes;

        BaseClassLoader(Path classes) {
            super(ScopedValuePropagationTest.class.getClassLoader());
            this.classes = classes;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith("dev.weft.scoped.")) {
                return super.loadClass(name, resolve);
            }
            Class<?> c = findLoadedClass(name);
            if (c != null) {
                return c;
            }
            Path file = classes.resolve(name.replace('.', '/') + ".class");
            try (InputStream in = Files.newInputStream(file)) {
                byte[] bytes = in.readAllBytes();
                assertThat(bytes[7]).as("class file major version of %s", file).isEqualTo((byte) 65);   // Java 21
                return defineClass(name, bytes, 0, bytes.length);
            } catch (IOException e) {
                throw new ClassNotFoundException(name, e);
            }
        }
    }
}
