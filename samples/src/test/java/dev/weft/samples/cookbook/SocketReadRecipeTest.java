package dev.weft.samples.cookbook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.CancelledException;
import dev.weft.TaskScope;
import dev.weft.TaskScope.Joiner;
import dev.weft.TaskScope.Subtask;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The socket recipe: a java.io read on a platform thread, which an interrupt does not unblock. */
@Timeout(30)
@SuppressWarnings("try")       // registrations and sections are used for their extent
class SocketReadRecipeTest {

    @Test
    void cancellingTheTask_closesTheSocket_andEndsAReadOnAPlatformThread() throws Exception {
        try (var server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             var client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
             var silent = server.accept()) {                    // connected, and never writes
            var reading = new CountDownLatch(1);
            Subtask<Integer> read;
            var threadWasVirtual = new boolean[1];
            try (var scope = TaskScope.<Integer, Void, RuntimeException>open(Joiner.awaitAll(),
                    cfg -> cfg.withThreadFactory(Thread.ofPlatform().name("reader-", 0).factory())
                            .withGrace(Duration.ofSeconds(10)))) {
                read = scope.fork(() -> {
                    threadWasVirtual[0] = Thread.currentThread().isVirtual();
                    reading.countDown();
                    return Recipes.readByte(client);
                });
                reading.await();
                scope.cancel();
                assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            }
            assertThat(threadWasVirtual[0]).isFalse();
            assertThat(read.state()).isEqualTo(Subtask.State.CANCELLED);
            assertThat(read.exception()).isInstanceOf(SocketException.class);
            assertThat(client.isClosed()).isTrue();
        }
    }

    @Test
    void readByte_returnsWhatArrives() throws Exception {
        try (var server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             var client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
             var peer = server.accept()) {
            peer.getOutputStream().write(42);
            try (var scope = TaskScope.<Integer, Void, java.util.concurrent.ExecutionException>open(Joiner.awaitAllSuccessfulOrThrow(),
                    cfg -> cfg.withThreadFactory(Thread.ofPlatform().factory()).withTimeout(Duration.ofSeconds(20)))) {
                var read = scope.fork(() -> Recipes.readByte(client));
                scope.join();
                assertThat(read.get()).isEqualTo(42);
            }
            assertThat(client.isClosed()).isFalse();             // unregistered, not closed
        }
    }
}
