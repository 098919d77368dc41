package dev.weft;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A thread-safe trail of events, to assert the order in which things happened across threads.
 *
 * {@snippet :
 * var trail = new EventTrail();
 * scope.fork(() -> { trail.add("child started"); ... });
 * trail.add("owner joined");
 * trail.assertContainsInOrder("child started", "owner joined");
 * }
 */
final class EventTrail {

    private final List<String> events = new ArrayList<>();

    /** Appends an event. Any thread. */
    void add(String event) {
        synchronized (events) {     // never held across blocking
            events.add(event);
        }
    }

    /** A copy of the events so far, in order. */
    List<String> get() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    /** Asserts that the given events occur in this relative order (others may come between). */
    void assertContainsInOrder(String... expected) {
        assertThat(get()).containsSubsequence(expected);
    }

    @Override
    public String toString() {
        return get().toString();
    }
}
