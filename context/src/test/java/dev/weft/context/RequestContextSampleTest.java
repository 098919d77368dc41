package dev.weft.context;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Runs {@link RequestContextSample} and checks its log lines and trace trees. */
class RequestContextSampleTest {

    /** {@code requestId=req-1 [thread] message about c1...}: the MDC's id, and the customer the code was given. */
    static final Pattern LINE = Pattern.compile("requestId=(\\S+) \\[[^]]+] .*\\bc(\\d)\\b.*");

    @Test
    @Timeout(30)
    void everyLogLine_fromEverySubtaskAtEveryDepth_carriesItsRequestsId_andSpansFormOneTreePerRequest() throws Exception {
        RequestContextSample.Run run = RequestContextSample.run(System.out);
        System.out.println();
        System.out.print(run.traceTrees());

        assertThat(run.responses()).extracting(RequestContextSample.Response::status).containsExactly(200, 200);
        // Per request: handling + responding, profile (1 + 2), orders (1), each order (1 + price + stock) x 2.
        assertThat(run.logLines()).hasSize(2 * (2 + 3 + 1 + 2 * 3));
        for (String line : run.logLines()) {
            Matcher m = LINE.matcher(line);
            assertThat(m.matches()).as("log line %s", line).isTrue();
            // The request id comes from the MDC; the customer from the arguments: they must agree.
            assertThat(m.group(1)).as("log line %s", line).isEqualTo("req-" + m.group(2));
        }
        assertThat(run.logLines()).filteredOn(l -> l.contains("pricing")).hasSize(4);          // depth 3

        String[] traces = run.traceTrees().split("(?=trace )");
        assertThat(traces).hasSize(2);
        for (int c = 1; c <= 2; c++) {
            String o = "c" + c + "-order-";
            assertThat(traces[c - 1].substring(traces[c - 1].indexOf('\n') + 1)).isEqualTo(String.join("\n", List.of(
                    "  GET /customers/c" + c,
                    "    load orders",
                    "      load " + o + "1",
                    "        price " + o + "1",
                    "        stock " + o + "1",
                    "      load " + o + "2",
                    "        price " + o + "2",
                    "        stock " + o + "2",
                    "    load profile",
                    "      load name",
                    "      load preferences")) + "\n");
        }
    }
}
