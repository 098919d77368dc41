package dev.weft;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;

/**
 * The public face of a scope: a shell around its {@link Flock}. Nothing inside Weft refers to the
 * shell, so when the application drops it without closing it, the {@link Cleaner} sees it become
 * unreachable and reports the leak (see {@link Leaks}).
 */
final class TaskScopeImpl<T, R, R_X extends Throwable> implements TaskScope<T, R, R_X> {

    /** The scope's state. */
    private final Flock flock;

    /** The leak-detection registration, or null when leak detection is off. */
    private final Cleaner.Cleanable cleanable;

    private TaskScopeImpl(Flock flock) {
        this.flock = flock;
        this.cleanable = Leaks.track(this, flock);
    }

    @SuppressWarnings("unchecked")
    static <T, R, R_X extends Throwable> TaskScope<T, R, R_X> open(Joiner<? super T, ? extends R, R_X> joiner, Config config) {
        Context ctx = Context.current();
        ctx.dropAbandoned();
        Flock flock = new Flock((Joiner<Object, Object, ?>) joiner, config, ctx, Leaks.openSite());
        ctx.push(flock);
        if (flock.root) {
            Registry.addRoot(flock);
        }
        flock.startTimer();
        return new TaskScopeImpl<>(flock);
    }

    @Override
    public <U extends T> Subtask<U> fork(Callable<? extends U> task) {
        Objects.requireNonNull(task, "task");
        try {
            return cast(flock.fork(null, task, false));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public <U extends T> Subtask<U> fork(Runnable task) {
        Objects.requireNonNull(task, "task");
        try {
            return cast(flock.fork(null, task, true));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public <U extends T> Subtask<U> fork(String name, Callable<? extends U> task) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(task, "task");
        try {
            return cast(flock.fork(name, task, false));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public <U extends T> Subtask<U> fork(String name, Runnable task) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(task, "task");
        try {
            return cast(flock.fork(name, task, true));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @SuppressWarnings("unchecked")
    private static <U> Subtask<U> cast(Task t) {
        return (Subtask<U>) (Subtask<?>) t;
    }

    @Override
    @SuppressWarnings("unchecked")
    public R join() throws R_X, InterruptedException {
        try {
            return (R) flock.join();
        } finally {
            Reference.reachabilityFence(this);       // a scope in use is not leaked, even if unused afterwards
        }
    }

    @Override
    public void cancel() {
        flock.cancel(Reason.explicit(flock.name, null));
    }

    @Override
    public void cancel(Throwable reason) {
        flock.cancel(Reason.explicit(flock.name, reason));
    }

    @Override
    public boolean isCancelled() {
        return flock.isCancelled();
    }

    @Override
    public void close() {
        try {
            flock.close();
        } finally {
            if (cleanable != null && flock.phase == Flock.CLOSED) {
                cleanable.clean();
            }
            Reference.reachabilityFence(this);
        }
    }

    /** The scope's state, for tests and diagnostics in this package. */
    Flock flock() {
        return flock;
    }

    @Override
    public String toString() {
        return flock.toString();
    }
}
