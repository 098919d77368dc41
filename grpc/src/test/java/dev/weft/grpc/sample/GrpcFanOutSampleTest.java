package dev.weft.grpc.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Runs the sample's story and checks what it printed. */
@Timeout(60)
class GrpcFanOutSampleTest {

    @Test
    void cancelAtTheEdge_stopsTheFanOutInEveryProcess() throws Exception {
        List<String> printed = GrpcFanOutSample.run();
        printed.forEach(System.out::println);
        assertThat(printed.get(0)).contains("CancelledException").contains("the user navigated away");
        for (String part : GrpcFanOutSample.PARTS) {
            assertThat(printed).anyMatch(l -> l.startsWith("backends:") && l.contains(part + " call stopped after"));
        }
        assertThat(printed).anyMatch(l -> l.startsWith("page:") && l.contains("page scope stopped")
                && l.contains("the client cancelled the call"));
        // every backend call stopped long before it would have answered (1 s or more after it started)
        assertThat(printed).filteredOn(l -> l.startsWith("backends:") && l.contains("stopped after"))
                .allSatisfy(l -> assertThat(Long.parseLong(l.replaceAll(".*stopped after (\\d+) ms.*", "$1"))).isLessThan(1_000));
    }
}
