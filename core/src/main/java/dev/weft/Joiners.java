package dev.weft;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.NoSuchElementException;
import java.util.function.Predicate;

import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;

/**
 * The built-in joiners. {@code onFork} and {@code result} run on the owner thread; {@code onComplete}
 * runs on subtask threads, concurrently, so what it writes is written by CAS.
 */
final class Joiners {

    private Joiners() {
    }

    /** The exception a fail-fast joiner reports for a subtask that did not succeed. */
    static Throwable failureOf(Subtask<?> s) {
        if (s.state() == Subtask.State.CANCELLED) {
            return new CancelledException("subtask " + s.name() + " was cancelled", s.exception());
        }
        return s.exception();
    }

    /** The JDK's preconditions for {@code onFork}: a non-null subtask. */
    static <T> Subtask<T> forked(Subtask<T> subtask) {
        return Objects.requireNonNull(subtask, "subtask");
    }

    /** The JDK's preconditions for {@code onComplete}: a non-null, completed subtask. */
    static <T> Subtask<T> completed(Subtask<T> subtask) {
        if (Objects.requireNonNull(subtask, "subtask").state() == Subtask.State.RUNNING) {
            throw new IllegalArgumentException("onComplete(" + subtask.name() + "): the subtask has not completed;"
                    + " only its scope calls onComplete, once the subtask has completed");
        }
        return subtask;
    }

    /** The fail-fast joiners' exception: an ExecutionException whose cause is the first failure. */
    static ExecutionException failed(Subtask<?> s) {
        Throwable f = failureOf(s);
        return new ExecutionException(f);
    }

    /** Base: remembers the first subtask (in completion order) that did not succeed. */
    abstract static class FailFast<T, R> implements Joiner<T, R, ExecutionException> {

        /** First subtask that ended FAILED or CANCELLED. Written by CAS from subtask threads. */
        private volatile Subtask<T> firstFailed;

        @Override
        public boolean onFork(Subtask<T> subtask) {
            forked(subtask);
            return false;
        }

        /**
         * Records the first subtask that did not succeed and returns true for it alone, as the
         * JDK's fail-fast joiners do: the later ones (the siblings that cancellation ends, 100 000
         * of them in a large scope) read the field and return false, with no CAS on a shared line.
         */
        @Override
        public boolean onComplete(Subtask<T> subtask) {
            if (completed(subtask).state() == Subtask.State.SUCCESS) {
                return false;
            }
            return firstFailed == null && FIRST_FAILED.compareAndSet(this, null, subtask);
        }

        final void throwIfFailed() throws ExecutionException {
            Subtask<T> f = firstFailed;
            if (f != null) {
                throw failed(f);
            }
        }

        private static final VarHandle FIRST_FAILED;

        static {
            try {
                FIRST_FAILED = MethodHandles.lookup().findVarHandle(FailFast.class, "firstFailed", Subtask.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    static final class AllSuccessful<T> extends FailFast<T, List<T>> {

        /** All forked subtasks, in fork order. Owner thread only. */
        private final List<Subtask<T>> subtasks = new ArrayList<>();

        @Override
        public boolean onFork(Subtask<T> subtask) {
            subtasks.add(forked(subtask));
            return false;
        }

        @Override
        public List<T> result() throws ExecutionException {
            throwIfFailed();
            List<T> results = new ArrayList<>(subtasks.size());
            for (Subtask<T> s : subtasks) {
                results.add(s.get());
            }
            return Collections.unmodifiableList(results);
        }

        @Override
        public String toString() {
            return "Joiner.allSuccessfulOrThrow()";
        }
    }

    static final class AwaitAllSuccessful<T> extends FailFast<T, Void> {

        @Override
        public Void result() throws ExecutionException {
            throwIfFailed();
            return null;
        }

        @Override
        public String toString() {
            return "Joiner.awaitAllSuccessfulOrThrow()";
        }
    }

    static final class AnySuccessful<T> implements Joiner<T, T, ExecutionException> {

        /** The first subtask to succeed. CAS from subtask threads. */
        private volatile Subtask<T> success;
        /** The first subtask to fail or be cancelled. CAS from subtask threads. */
        private volatile Subtask<T> firstFailed;

        @Override
        public boolean onFork(Subtask<T> subtask) {
            forked(subtask);
            return false;
        }

        @Override
        public boolean onComplete(Subtask<T> subtask) {
            if (completed(subtask).state() == Subtask.State.SUCCESS) {
                return success == null && SUCCESS.compareAndSet(this, null, subtask);
            }
            if (firstFailed == null) {
                FIRST_FAILED.compareAndSet(this, null, subtask);
            }
            return false;
        }

        @Override
        public T result() throws ExecutionException {
            Subtask<T> s = success;
            if (s != null) {
                return s.get();
            }
            Subtask<T> f = firstFailed;
            if (f != null) {
                throw failed(f);
            }
            throw new ExecutionException(new NoSuchElementException("no subtask completed successfully: none was forked"));
        }

        @Override
        public String toString() {
            return "Joiner.anySuccessfulOrThrow()";
        }

        private static final VarHandle SUCCESS;
        private static final VarHandle FIRST_FAILED;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                SUCCESS = l.findVarHandle(AnySuccessful.class, "success", Subtask.class);
                FIRST_FAILED = l.findVarHandle(AnySuccessful.class, "firstFailed", Subtask.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    static final class AwaitAll<T> implements Joiner<T, Void, RuntimeException> {

        @Override
        public boolean onFork(Subtask<T> subtask) {
            forked(subtask);
            return false;
        }

        @Override
        public boolean onComplete(Subtask<T> subtask) {
            completed(subtask);
            return false;
        }

        @Override
        public Void result() {
            return null;
        }

        @Override
        public String toString() {
            return "Joiner.awaitAll()";
        }
    }

    static final class AllUntil<T> implements Joiner<T, List<Subtask<T>>, RuntimeException> {

        private final Predicate<? super Subtask<T>> isDone;
        /** All forked subtasks, in fork order. Owner thread only. */
        private final List<Subtask<T>> subtasks = new ArrayList<>();

        AllUntil(Predicate<? super Subtask<T>> isDone) {
            this.isDone = isDone;
        }

        @Override
        public boolean onFork(Subtask<T> subtask) {
            subtasks.add(forked(subtask));
            return false;
        }

        @Override
        public boolean onComplete(Subtask<T> subtask) {
            return isDone.test(completed(subtask));
        }

        @Override
        public List<Subtask<T>> result() {
            return Collections.unmodifiableList(new ArrayList<>(subtasks));
        }

        @Override
        public String toString() {
            return "Joiner.allUntil(" + isDone + ")";
        }
    }
}
