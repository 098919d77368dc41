package dev.weft.grpc.chain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Three JVMs on loopback: client → service A → service B. A forks two subtasks that each call B;
 * B forks two subtasks per call that wait. So one run has 2 subtasks on A and 4 on B. A and B are
 * started once for the class; each test starts a client with its own run id.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
class CrossProcessTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Pattern REMAINING = Pattern.compile("remaining_ms=(-?\\d+)");

    private ChildJvm a;
    private ChildJvm b;
    private int portA;

    @BeforeAll
    void startServices() throws Exception {
        b = ChildJvm.start("B", ChainNode.class, "B", "-", "2");
        int portB = port(b);
        a = ChildJvm.start("A", ChainNode.class, "A", Integer.toString(portB), "2");
        portA = port(a);
    }

    @AfterAll
    void stopServices() throws Exception {
        try {
            if (a != null) {
                a.close();
            }
        } finally {
            if (b != null) {
                b.close();
            }
        }
    }

    private static int port(ChildJvm node) throws InterruptedException {
        String line = node.await(l -> ChildJvm.body(l).startsWith("PORT "), WAIT, "PORT");
        return Integer.parseInt(ChildJvm.body(line).substring(5).trim());
    }

    /** Waits until A and B have started all their subtasks of {@code run}. */
    private void awaitAllStarted(String run) throws InterruptedException {
        for (int i = 0; i < 2; i++) {
            a.await(l -> l.contains("SUBTASK-START A " + run + " "), WAIT, "SUBTASK-START A " + run);
        }
        for (int i = 0; i < 4; i++) {
            b.await(l -> l.contains("SUBTASK-START B " + run + " "), WAIT, "SUBTASK-START B " + run);
        }
    }

    /** Waits for every subtask of {@code run} to end on A and B, and for each scope's reason; returns the reasons. */
    private List<String> awaitAllStopped(String run) throws InterruptedException {
        List<String> reasons = new ArrayList<>();
        int endedA = 0;
        int endedB = 0;
        int cancelledA = 0;
        int cancelledB = 0;
        while (endedA < 2 || cancelledA < 1) {
            String l = a.await(x -> x.contains(" A " + run + " "), WAIT, "A's subtasks and scope of " + run + " ending");
            if (l.contains("SUBTASK-END")) {
                endedA++;
            } else if (l.contains("SCOPE-CANCELLED")) {
                cancelledA++;
                reasons.add(ChildJvm.body(l));
            }
        }
        while (endedB < 4 || cancelledB < 2) {
            String l = b.await(x -> x.contains(" B " + run + " "), WAIT, "B's subtasks and scopes of " + run + " ending");
            if (l.contains("SUBTASK-END")) {
                endedB++;
            } else if (l.contains("SCOPE-CANCELLED")) {
                cancelledB++;
                reasons.add(ChildJvm.body(l));
            }
        }
        return reasons;
    }

    private static long remaining(ChildJvm node, String run, String name) throws InterruptedException {
        String l = node.await(x -> x.contains("ARRIVED " + name + " " + run + " "), WAIT, "ARRIVED " + name);
        assertThat(l).contains("virtual=true");
        Matcher m = REMAINING.matcher(l);
        assertThat(m.find()).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void clientCancel_endsEverySubtaskOnAAndB_andEachServerReportsWhy() throws Exception {
        String run = "cancel-run";
        try (var client = ChildJvm.start("client", ChainClient.class, Integer.toString(portA), run, "30000")) {
            client.await(l -> l.contains("CALLING"), WAIT, "CALLING");
            awaitAllStarted(run);
            client.send("cancel");
            List<String> reasons = awaitAllStopped(run);
            assertThat(reasons).hasSize(3).allSatisfy(r -> assertThat(r).contains("the client cancelled the call"));
            String outcome = client.await(l -> l.contains("CLIENT-OUTCOME"), WAIT, "CLIENT-OUTCOME");
            assertThat(outcome).contains("CancelledException").contains("the user gave up");
        }
    }

    @Test
    void clientDeadline_isSeenShrinkingAtAAndAtB_andEndsTheWorkThere() throws Exception {
        String run = "deadline-run";
        try (var client = ChildJvm.start("client", ChainClient.class, Integer.toString(portA), run, "6000")) {
            long atA = remaining(a, run, "A");
            long atB1 = remaining(b, run, "B");
            long atB2 = remaining(b, run, "B");
            assertThat(atA).isBetween(1L, 6000L);
            assertThat(atB1).isBetween(1L, atA);
            assertThat(atB2).isBetween(1L, atA);
            List<String> reasons = awaitAllStopped(run);
            assertThat(reasons).hasSize(3).allSatisfy(r -> assertThat(r).containsIgnoringCase("deadline"));
            String outcome = client.await(l -> l.contains("CLIENT-OUTCOME"), WAIT, "CLIENT-OUTCOME");
            assertThat(outcome).contains("DeadlineExceededException");
        }
    }

    @Test
    void sigkillOfTheClient_cancelsTheWorkOnAAndB_throughTheLostConnection() throws Exception {
        String run = "kill-run";
        try (var client = ChildJvm.start("client", ChainClient.class, Integer.toString(portA), run, "30000")) {
            client.await(l -> l.contains("CALLING"), WAIT, "CALLING");
            awaitAllStarted(run);
            client.process.destroyForcibly();
            List<String> reasons = awaitAllStopped(run);
            // The client's JVM died without a word: no RST_STREAM, only the TCP connection closing.
            assertThat(client.process.waitFor(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(client.seen).noneMatch(l -> l.contains("CLIENT-CANCELLING") || l.contains("CLIENT-OUTCOME"));
            assertThat(reasons).hasSize(3).allSatisfy(r -> assertThat(r)
                    .contains("the client cancelled the call, or the connection to it was lost"));
        }
    }
}
