package dev.weft;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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

    /** Base: remembers the first subtask (in completion order) that did not succeed. */
    abstract static class FailFast<T, R> implements Joiner<T, R> {

        /** First subtask that ended FAILED or CANCELLED. Written by CAS from subtask threads. */
        private volatile Subtask<T> firstFailed;

        @Override
        public boolean onComplete(Subtask<T> subtask) {
            if (subtask.state() == Subtask.State.SUCCESS) {
                return false;
            }
            FIRST_FAILED.compareAndSet(this, null, subtask);
            return true;
        }

        final void throwIfFailed() throws Throwable {
            Subtask<T> f = firstFailed;
            if (f != null) {
                throw failureOf(f);
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
            subtasks.add(subtask);
            return false;
        }

        @Override
        public List<T> result() throws Throwable {
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
        public Void result() throws Throwable {
            throwIfFailed();
            return null;
        }

        @Override
        public String toString() {
            return "Joiner.awaitAllSuccessfulOrThrow()";
        }
    }

    static final class AnySuccessful<T> implements Joiner<T, T> {

        /** The first subtask to succeed. CAS from subtask threads. */
        private volatile Subtask<T> success;
        /** The first subtask to fail or be cancelled. CAS from subtask threads. */
        private volatile Subtask<T> firstFailed;

        @Override
        public boolean onComplete(Subtask<T> subtask) {
            if (subtask.state() == Subtask.State.SUCCESS) {
                return SUCCESS.compareAndSet(this, null, subtask);
            }
            FIRST_FAILED.compareAndSet(this, null, subtask);
            return false;
        }

        @Override
        public T result() throws Throwable {
            Subtask<T> s = success;
            if (s != null) {
                return s.get();
            }
            Subtask<T> f = firstFailed;
            if (f != null) {
                throw failureOf(f);
            }
            throw new NoSuchElementException("no subtask completed successfully: none was forked");
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

    static final class AwaitAll<T> implements Joiner<T, Void> {

        @Override
        public Void result() {
            return null;
        }

        @Override
        public String toString() {
            return "Joiner.awaitAll()";
        }
    }

    static final class AllUntil<T> implements Joiner<T, List<Subtask<T>>> {

        private final Predicate<? super Subtask<T>> isDone;
        /** All forked subtasks, in fork order. Owner thread only. */
        private final List<Subtask<T>> subtasks = new ArrayList<>();

        AllUntil(Predicate<? super Subtask<T>> isDone) {
            this.isDone = isDone;
        }

        @Override
        public boolean onFork(Subtask<T> subtask) {
            subtasks.add(subtask);
            return false;
        }

        @Override
        public boolean onComplete(Subtask<T> subtask) {
            return isDone.test(subtask);
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
