package dev.weft.jmh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.jmh.Children.Behaviour;
import dev.weft.jmh.Children.Peer;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The KOTLIN peer (kotlinx.coroutines behind {@link Coroutines}) starts, stops and checks what it claims. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KotlinPeerTest {

    @Test
    void kotlinPeer_isLoadedFromTheModule() {
        assertThat(Coroutines.unavailable()).isNull();
        assertThat(Coroutines.available()).isTrue();
    }

    @Test
    void awaitCancellation_cancelAndJoin_completesEveryCoroutine() throws Exception {
        Coroutines.Children c = Coroutines.start(1_000, false, false);
        assertThatThrownBy(c::verifyCompleted)          // suspended, so not completed yet: the check can fail
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not completed and cancelled");
        c.cancelAndJoin();
        c.verifyCompleted();
    }

    @Test
    void delay_cancelAndJoin_completesEveryCoroutine() throws Exception {
        Coroutines.Children c = Coroutines.start(1_000, true, false);
        assertThatThrownBy(c::verifyCompleted).isInstanceOf(IllegalStateException.class);
        c.cancelAndJoin();
        c.verifyCompleted();
    }

    @Test
    void checkedChildren_cancelAndJoin_completesEveryCoroutine() throws Exception {
        Coroutines.Children c = Coroutines.start(100, false, true);
        c.cancelAndJoin();
        c.verifyCompleted();
    }

    @Test
    void abandon_thenJoin_completesEveryCoroutine() throws Exception {
        Coroutines.Children c = Coroutines.start(100, false, false);
        c.abandon();
        c.cancelAndJoin();                              // already cancelled: only waits
        c.verifyCompleted();
    }

    @Test
    void start_zeroChildren_isRejectedWithTheCount() {
        assertThatThrownBy(() -> Coroutines.start(0, false, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("n must be at least 1, was 0");
    }

    @Test
    void children_parkAndSleep_runUnderTheBenchmarkFixture() throws Exception {
        for (Behaviour b : new Behaviour[] {Behaviour.PARK, Behaviour.PARK_CHECKED, Behaviour.SLEEP}) {
            Children c = Children.start(Peer.KOTLIN, b, 500, null);
            c.cancelAndAwait();
            c.verifyTerminated();
        }
    }

    @Test
    void children_kotlinWithABehaviourItHasNot_isRejectedWithWhatItSupports() {
        for (Behaviour b : new Behaviour[] {Behaviour.POLL, Behaviour.SOCKET}) {
            assertThatThrownBy(() -> Children.start(Peer.KOTLIN, b, 1, null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("awaitCancellation()")
                    .hasMessageContaining(b.name());
        }
        assertThatThrownBy(() -> Children.start(Peer.KOTLIN, Behaviour.CRITICAL, 1, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Weft-only")
                .hasMessageContaining("KOTLIN");
    }
}
