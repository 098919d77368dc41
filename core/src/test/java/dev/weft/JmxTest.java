package dev.weft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import javax.management.MBeanOperationInfo;
import javax.management.MBeanServer;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The {@code dev.weft:type=Scopes} MBean: in this JVM, and from outside a child JVM. */
@Timeout(60)
class JmxTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private static ObjectName name() throws Exception {
        return new ObjectName(Jmx.OBJECT_NAME);
    }

    @Test
    void register_platformServer_exposesOperationsAndAttributes() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        assertThat(Jmx.register()).isTrue();
        try {
            assertThat(Jmx.register()).as("idempotent").isTrue();
            var info = server.getMBeanInfo(name());
            assertThat(info.getOperations()).extracting(op -> op.getName() + "/" + op.getSignature().length + "/" + op.getImpact())
                    .containsExactlyInAnyOrder("dump/0/" + MBeanOperationInfo.INFO, "dump/1/" + MBeanOperationInfo.INFO,
                            "dumpJson/0/" + MBeanOperationInfo.INFO, "dumpJson/1/" + MBeanOperationInfo.INFO,
                            "cancelAll/0/" + MBeanOperationInfo.ACTION);
            assertThat(info.getAttributes()).extracting(a -> a.getName())
                    .containsExactlyInAnyOrder("RootScopes", "LingeringScopes", "RunningSubtasks");

            CountDownLatch started = new CountDownLatch(1);
            try (var scope = TaskScope.open(TaskScope.Joiner.awaitAll(), c -> c.withName("jmx-local"))) {
                var sleeper = scope.fork("sleeper", () -> {
                    started.countDown();
                    Thread.sleep(Duration.ofHours(1));
                    return null;
                });
                assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
                TestSupport.awaitBlocked(TestSupport.threadOf(sleeper), WAIT);

                String text = (String) server.invoke(name(), "dump", null, null);
                assertThat(text).contains("scope 'jmx-local' open", "task #1 'sleeper' RUNNING", "at java.base/java.lang.Thread.sleep(");
                String noFrames = (String) server.invoke(name(), "dump", new Object[] {0}, new String[] {"int"});
                assertThat(noFrames).contains("task #1 'sleeper' RUNNING").doesNotContain("at java.base/");
                JsonNode json = DumpTest.JSON.readTree((String) server.invoke(name(), "dumpJson", new Object[] {1}, new String[] {"int"}));
                assertThat(json.get("maxFrames").asInt()).isEqualTo(1);
                assertThat(json.get("scopes").findValuesAsText("name")).contains("jmx-local", "sleeper");
                assertThat((Integer) server.getAttribute(name(), "RootScopes")).isPositive();
                assertThat((Integer) server.getAttribute(name(), "RunningSubtasks")).isPositive();
                assertThat(server.getAttribute(name(), "LingeringScopes")).isInstanceOf(Integer.class);
                scope.cancel();
                assertThatThrownBy(scope::join).isInstanceOf(CancelledException.class);
            }
        } finally {
            Jmx.unregister();
        }
        assertThat(server.isRegistered(name())).isFalse();
    }

    /** A child JVM running {@link JmxProbe}. */
    private static final class Child implements AutoCloseable {
        final Process process;
        final BufferedReader out;
        final List<String> lines = new ArrayList<>();

        Child(List<String> jvmOptions, String... args) throws Exception {
            List<String> cmd = new ArrayList<>();
            cmd.add(ProcessHandle.current().info().command().orElseThrow());
            cmd.addAll(jvmOptions);
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(JmxProbe.class.getName());
            cmd.addAll(Arrays.asList(args));
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        /** Reads lines until one equals {@code line}; returns false at end of output. */
        boolean awaitLine(String line) throws Exception {
            String l;
            while ((l = out.readLine()) != null) {
                lines.add(l);
                if (l.equals(line)) {
                    return true;
                }
            }
            return false;
        }

        /** Reads the rest of the output and waits for exit. */
        int finish() throws Exception {
            String l;
            while ((l = out.readLine()) != null) {
                lines.add(l);
            }
            assertThat(process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).as("child exited").isTrue();
            return process.exitValue();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    /**
     * Attaches to {@code pid} and starts its local JMX agent; returns the connector address. The
     * attach API is called reflectively: the tests compile as part of module {@code dev.weft},
     * which does not read {@code jdk.attach}, and run on the class path, where it is available.
     */
    private static String startLocalManagementAgent(long pid) throws Exception {
        Class<?> vmClass = Class.forName("com.sun.tools.attach.VirtualMachine");
        Object vm = vmClass.getMethod("attach", String.class).invoke(null, Long.toString(pid));
        try {
            return (String) vmClass.getMethod("startLocalManagementAgent").invoke(vm);
        } finally {
            vmClass.getMethod("detach").invoke(vm);
        }
    }

    @Test
    void jmxProperty_childJvm_dumpsAndCancelsFromOutsideTheProcess() throws Exception {
        try (Child child = new Child(List.of("-Ddev.weft.jmx=true"))) {
            assertThat(child.awaitLine("ready")).as("child output: %s", child.lines).isTrue();
            String address = startLocalManagementAgent(child.process.pid());     // what jconsole does on a local attach
            try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(address))) {
                MBeanServerConnection remote = connector.getMBeanServerConnection();
                assertThat(remote.isRegistered(name())).isTrue();
                String dump = (String) remote.invoke(name(), "dump", null, null);
                assertThat(dump).contains("(pid " + child.process.pid() + ")", "scope 'jmx-probe' open, owner 'main' WAITING",
                        "task #1 'parked' RUNNING", "thread 'jmx-probe:parked'");
                JsonNode json = DumpTest.JSON.readTree((String) remote.invoke(name(), "dumpJson", null, null));
                assertThat(json.get("pid").asLong()).isEqualTo(child.process.pid());
                assertThat(json.at("/scopes/0/name").asText()).isEqualTo("jmx-probe");
                assertThat(remote.invoke(name(), "cancelAll", null, null)).isEqualTo(1);
            }
            assertThat(child.awaitLine("join threw dev.weft.CancelledException: scope 'jmx-probe' was cancelled by Scopes.cancelAll()"))
                    .as("child output: %s", child.lines).isTrue();
            child.process.getOutputStream().close();
            assertThat(child.finish()).isZero();
        }
    }

    @Test
    void noJmxProperty_childJvm_loadsNoManagementCode(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("classes.log");
        try (Child child = new Child(List.of("-Xlog:class+load=info:file=" + log), "self")) {
            assertThat(child.awaitLine("ready")).as("child output: %s", child.lines).isTrue();
            assertThat(child.finish()).isZero();
            assertThat(child.lines).contains("join threw dev.weft.CancelledException: scope 'jmx-probe' was cancelled");
        }
        List<String> lines = Files.readAllLines(log);
        assertThat(lines).anyMatch(l -> l.contains(" dev.weft.Registry "));          // the first scope opened
        assertThat(lines).noneMatch(l -> l.contains(" dev.weft.ScopesMBean ") || l.contains(" dev.weft.Jmx$Platform "));
        assertThat(lines).noneMatch(l -> l.contains(" javax.management."));
    }
}
