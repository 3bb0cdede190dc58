package backstop.local.bench;

import backstop.core.agent.AgentRef;
import backstop.core.session.Exemption;
import backstop.core.session.NewSession;
import backstop.core.session.SessionId;
import backstop.core.session.SessionSeeder;
import backstop.local.LocalStack;
import backstop.local.connect.Quota;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Not part of the test run: how much memory the reconciler uses, to size its MemorySize from measurement. A
 * fresh JVM (Lambda's Java flags, the machine's RAM capped at the size under test with {@code -XX:MaxRAM}) runs
 * reconciler.jar's production handler for one scheduled invocation against a table with {@code live} live
 * sessions (every one read: the container's first sweep) and {@code stale} crashed ones (closed, set Offline at
 * 100/s), and prints its peak resident memory (Lambda's Max Memory Used) and heap peak.
 * <pre>local/bin/bench memory   (BENCH_LIVE=10000 BENCH_STALE=500 BENCH_MEMORY=256,512,1024)</pre>
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class ReconcilerMemoryBenchmark {

    @Test
    void measure() throws Exception {
        int live = Integer.parseInt(System.getProperty("live", "10000").split(",")[0]);
        int stale = Integer.parseInt(System.getProperty("stale", "500").split(",")[0]);
        List<Integer> sizes = java.util.Arrays.stream(System.getProperty("memory", "256,512,1024").split(",")).map(Integer::parseInt).toList();
        Path jar = Path.of("..", "functions", "reconciler", "target", "reconciler.jar").toAbsolutePath().normalize();
        assertThat(jar).as("build the functions first (mvn package)").exists();
        String classpath = jar + File.pathSeparator + ColdStartBenchmark.probeClasses("ReconcilerMemoryProbe", "ColdStartProbe$ProbeContext");
        SecureRandom random = new SecureRandom();
        for (int mb : sizes) {
            try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of("CONNECT_RATE_PER_SECOND", "100")))) {
                stack.connect().setQuota(Quota.OFF);
                Instant now = Instant.now();
                List<NewSession> sessions = new ArrayList<>();
                for (int i = 0; i < live + stale; i++) {
                    String userId = "mem-" + i;
                    if (i >= live) {
                        stack.connect().addAgent(stack.instanceId(), userId, userId, "Memory", "Agent", "rp-sales", "Available");
                    }
                    sessions.add(new NewSession(SessionId.random(random), new AgentRef(stack.config().connectInstance(), userId), new byte[32],
                            i < live ? now.plusSeconds(3600) : now.minusSeconds(600), Optional.empty(), Optional.empty(),
                            Exemption.NOT_EXEMPT, Optional.empty(), 4));
                }
                SessionSeeder.seedOpenSessions(stack.clients().dynamoDb(), stack.config().sessionsTable(), sessions);

                List<String> command = new ArrayList<>();
                command.add(ProcessHandle.current().info().command().orElse("java"));
                command.addAll(List.of("-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:MaxRAM=" + mb + "m",
                        "-Xlog:disable", "-Xlog:all=warning:stderr", "-cp", classpath, ReconcilerMemoryProbe.class.getName(), "40000"));
                ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
                builder.environment().keySet().removeIf(key -> key.startsWith("AWS_") || key.equals("JAVA_TOOL_OPTIONS"));
                Map<String, String> env = ColdStartBenchmark.childEnvironment(stack);
                env.put("AWS_LAMBDA_FUNCTION_NAME", "ReconcilerFunction");
                builder.environment().putAll(env);
                long start = System.nanoTime();
                Process process = builder.start();
                String result = "none";
                String memory = "none";
                try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line = out.readLine(); line != null; line = out.readLine()) {
                        if (line.startsWith("RESULT ")) {
                            result = line.substring(7);
                        } else if (line.startsWith("MEMORY ")) {
                            memory = line.substring(7);
                        }
                    }
                }
                assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
                assertThat(memory).as("the probe reported its memory").isNotEqualTo("none");
                String[] figures = memory.split(" ");
                System.out.printf("reconciler-memory MaxRAM %d MB, %d live + %d stale sessions: peak RSS %s MB, heap peak %s MB, run %s, %.1f s%n",
                        mb, live, stale, figures[0], figures[1], result, (System.nanoTime() - start) / 1e9);
            }
        }
    }
}
