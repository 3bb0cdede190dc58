package backstop.local.bench;

import backstop.core.agent.AgentRef;
import backstop.core.session.Exemption;
import backstop.core.session.NewSession;
import backstop.core.session.SessionId;
import backstop.core.session.SessionSeeder;
import backstop.local.LocalStack;
import backstop.local.connect.Quota;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What both memory benchmarks do ({@link ReconcilerMemoryBenchmark} across MemorySizes, {@link ScaleMemoryBenchmark}
 * across open sessions): a fresh local stack seeded with {@code live} live sessions and {@code stale} crashed ones
 * (agents Available in the emulator, Connect's quota off), then a child JVM with the flags given running a probe
 * (reconciler.jar's handler for one scheduled invocation), which reports what the process used.
 */
final class ReconcilerMemoryRun {
    private static final Path JAR = Path.of("..", "functions", "reconciler", "target", "reconciler.jar").toAbsolutePath().normalize();

    /** What the probe reported: its invocation's result, its peak RSS (Lambda's Max Memory Used) and heap peak, in MB. */
    record Figures(String result, String peakRssMb, String heapPeakMb, double seconds, double seedSeconds) {
    }

    private ReconcilerMemoryRun() {
    }

    /** reconciler.jar and the probe's classes. */
    static String classpath(String probe) throws Exception {
        assertThat(JAR).as("build the functions first (mvn package)").exists();
        return JAR + File.pathSeparator + ColdStartBenchmark.probeClasses(probe, "ColdStartProbe$ProbeContext", "ProbeMemory");
    }

    static Figures measure(int live, int stale, String userPrefix, List<String> jvmFlags, String classpath, Class<?> probe,
                           Path errors, Duration wait) throws Exception {
        try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of("CONNECT_RATE_PER_SECOND", "100")))) {
            stack.connect().setQuota(Quota.OFF);
            double seedSeconds = seed(stack, live, stale, userPrefix);
            List<String> command = new ArrayList<>();
            command.add(ProcessHandle.current().info().command().orElse("java"));
            command.addAll(jvmFlags);
            command.addAll(List.of("-Xlog:disable", "-Xlog:all=warning:stderr", "-cp", classpath, probe.getName(), "40000"));
            Files.createDirectories(errors.getParent());
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
            assertThat(process.waitFor(wait.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(used).as("the probe reported its memory (an OutOfMemoryError reports none): %s", Files.readString(errors))
                    .isNotEqualTo("none");
            String[] figures = used.split(" ");
            return new Figures(result, figures[0], figures[1], (System.nanoTime() - start) / 1e9, seedSeconds);
        }
    }

    /** Seeds the sessions; the seconds it took moto. */
    private static double seed(LocalStack stack, int live, int stale, String userPrefix) {
        SecureRandom random = new SecureRandom();
        Instant now = Instant.now();
        List<NewSession> sessions = new ArrayList<>();
        for (int i = 0; i < live + stale; i++) {
            String userId = userPrefix + i;
            if (i >= live) {
                stack.connect().addAgent(stack.instanceId(), userId, userId, "Memory", "Agent", "rp-sales", "Available");
            }
            sessions.add(new NewSession(SessionId.random(random), new AgentRef(stack.config().connectInstance(), userId), new byte[32],
                    i < live ? now.plusSeconds(3600) : now.minusSeconds(600), Optional.empty(), Optional.empty(),
                    Exemption.NOT_EXEMPT, Optional.empty(), 4));
        }
        long seedStart = System.nanoTime();
        SessionSeeder.seedOpenSessions(stack.clients().dynamoDb(), stack.config().sessionsTable(), sessions);
        return (System.nanoTime() - seedStart) / 1e9;
    }
}
