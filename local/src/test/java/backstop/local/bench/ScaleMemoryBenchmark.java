package backstop.local.bench;

import backstop.core.agent.AgentRef;
import backstop.core.session.Exemption;
import backstop.core.session.NewSession;
import backstop.core.session.SessionId;
import backstop.core.session.SessionSeeder;
import backstop.local.LocalStack;
import backstop.local.aws.TemplateResources;
import backstop.local.connect.Quota;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
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
 * Not part of the test run: the reconciler's memory against the number of open sessions, as Lambda runs it. For
 * each size in {@code open} (10,000, 30,000, 100,000) a fresh JVM runs reconciler.jar's production handler for one
 * scheduled invocation (a new container: its first sweep lists and reads every open session) against a table of
 * that many live sessions and {@code stale} (100) crashed ones, with Lambda's Java flags at the template's
 * MemorySize: -XX:MaxHeapSize 85 % of it, -XX:+UseSerialGC, -XX:+TieredCompilation -XX:TieredStopAtLevel=1, the
 * machine's RAM capped at MemorySize. Printed: peak RSS (Lambda's Max Memory Used), heap peak, the first sweep's
 * time, and what seeding cost moto.
 * <pre>local/bin/bench scale   (BENCH_OPEN=10000,30000,100000)</pre>
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class ScaleMemoryBenchmark {

    @Test
    void measure() throws Exception {
        List<Integer> sizes = java.util.Arrays.stream(System.getProperty("open", "10000,30000,100000").split(",")).map(Integer::parseInt).toList();
        int stale = Integer.getInteger("stale", 100);
        Object memory = TemplateResources.load(TemplateResources.findTemplate()).properties("ReconcilerFunction").get("MemorySize");
        int mb = Integer.parseInt(String.valueOf(memory));
        int heap = (int) (mb * 0.85);
        Path jar = Path.of("..", "functions", "reconciler", "target", "reconciler.jar").toAbsolutePath().normalize();
        assertThat(jar).as("build the functions first (mvn package)").exists();
        String classpath = jar + File.pathSeparator + ColdStartBenchmark.probeClasses("ScaleMemoryProbe", "ColdStartProbe$ProbeContext");
        SecureRandom random = new SecureRandom();
        for (int live : sizes) {
            try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of("CONNECT_RATE_PER_SECOND", "100")))) {
                stack.connect().setQuota(Quota.OFF);
                Instant now = Instant.now();
                List<NewSession> sessions = new ArrayList<>();
                for (int i = 0; i < live + stale; i++) {
                    String userId = "scale-" + i;
                    if (i >= live) {
                        stack.connect().addAgent(stack.instanceId(), userId, userId, "Memory", "Agent", "rp-sales", "Available");
                    }
                    sessions.add(new NewSession(SessionId.random(random), new AgentRef(stack.config().connectInstance(), userId), new byte[32],
                            i < live ? now.plusSeconds(3600) : now.minusSeconds(600), Optional.empty(), Optional.empty(),
                            Exemption.NOT_EXEMPT, Optional.empty(), 4));
                }
                long seedStart = System.nanoTime();
                SessionSeeder.seedOpenSessions(stack.clients().dynamoDb(), stack.config().sessionsTable(), sessions);
                double seedSeconds = (System.nanoTime() - seedStart) / 1e9;
                sessions = null;

                List<String> command = new ArrayList<>();
                command.add(ProcessHandle.current().info().command().orElse("java"));
                command.addAll(List.of("-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:MaxHeapSize=" + heap + "m",
                        "-XX:MaxRAM=" + mb + "m", "-Xlog:disable", "-Xlog:all=warning:stderr", "-cp", classpath,
                        ScaleMemoryProbe.class.getName(), "40000"));
                Path errors = Path.of("target", "bench", "scale-memory-" + live + ".err");
                java.nio.file.Files.createDirectories(errors.getParent());
                ProcessBuilder builder = new ProcessBuilder(command).redirectError(errors.toFile());
                builder.environment().keySet().removeIf(key -> key.startsWith("AWS_") || key.equals("JAVA_TOOL_OPTIONS"));
                Map<String, String> env = ColdStartBenchmark.childEnvironment(stack);
                env.put("AWS_LAMBDA_FUNCTION_NAME", "ReconcilerFunction");
                builder.environment().putAll(env);
                long start = System.nanoTime();
                Process process = builder.start();
                String result = "none";
                String used = "none";
                try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line = out.readLine(); line != null; line = out.readLine()) {
                        if (line.startsWith("RESULT ")) {
                            result = line.substring(7);
                        } else if (line.startsWith("MEMORY ")) {
                            used = line.substring(7);
                        }
                    }
                }
                assertThat(process.waitFor(600, TimeUnit.SECONDS)).isTrue();
                assertThat(used).as("the probe reported its memory (an OutOfMemoryError reports none): %s", java.nio.file.Files.readString(errors))
                        .isNotEqualTo("none");
                String[] figures = used.split(" ");
                String line = String.format("scale-memory MemorySize %d MB (MaxHeapSize %d MB), %,d open + %d crashed sessions, first sweep:"
                                + " peak RSS %s MB, heap peak %s MB, run %s, %.1f s (seeding moto %.0f s)%n",
                        mb, heap, live, stale, figures[0], figures[1], result, (System.nanoTime() - start) / 1e9, seedSeconds);
                System.out.print(line);
                // Each size as it ends (the largest take many minutes): target/bench/scale-memory.txt.
                java.nio.file.Files.writeString(errors.resolveSibling("scale-memory.txt"), line, java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.APPEND);
            }
        }
    }
}
