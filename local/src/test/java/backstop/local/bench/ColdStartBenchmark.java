package backstop.local.bench;

import backstop.local.LocalStack;
import backstop.local.aws.AwsEmulation;
import backstop.local.connect.Quota;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cold start, side by side in one run: a fresh JVM handles its first close beacon against the local emulators
 * (moto and the Connect emulator, on loopback), timed from process start to the answer. Variants:
 * <ul>
 *   <li>{@code lean}: the shipped beacon.jar, the production constructor (url-connection client, region and
 *       credentials named, endpoints from AWS_ENDPOINT_URL_* as Lambda would give them);</li>
 *   <li>{@code naive}: the same service on clients built the default way: the SDK's Apache client and the
 *       default credential and region provider chains, no priming;</li>
 *   <li>{@code lean+aot}: lean with a JDK 25 AOT cache (JEP 483/514/515) trained on one close first;</li>
 *   <li>{@code primed}: lean plus the SnapStart priming and restore hooks run after init, as in the snapshot;
 *       its "first close alone" is what the first agent after a SnapStart restore waits for (restore itself
 *       excluded, which needs Lambda).</li>
 * </ul>
 * Every JVM runs with Lambda's Java flags (tiered compilation stopped at C1, serial GC). Runs alternate so the
 * machine's state weighs on all variants alike; the first pair is a warm-up of the OS file cache, not counted.
 * <pre>local/bin/bench cold-start   (or: local/bin/test -pl local -Dtest=ColdStartBenchmark -Dbench=true -Druns=7)</pre>
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class ColdStartBenchmark {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Per variant: process start to the handler constructed (Lambda's init phase), in ms. */
    static final Map<String, List<Long>> INIT_MILLIS = new java.util.concurrent.ConcurrentHashMap<>();
    /** Per variant: the first close alone, after init (and after priming for {@code primed}), in ms. */
    static final Map<String, List<Long>> FIRST_MILLIS = new java.util.concurrent.ConcurrentHashMap<>();
    static final List<String> LAMBDA_FLAGS = List.of("-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            "-Xmx512m");

    @Test
    void measure() throws Exception {
        int runs = Integer.getInteger("runs", 7);
        Path jar = Path.of("..", "functions", "beacon", "target", "beacon.jar").toAbsolutePath().normalize();
        assertThat(jar).as("build the functions first (mvn package)").exists();
        Path probeDir = probeClasses("ColdStartProbe");
        String naiveExtra = String.join(File.pathSeparator, Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> entry.contains("apache5-client") || entry.contains("httpclient5") || entry.contains("httpcore5"))
                .toList());
        String lean = jar + File.pathSeparator + probeDir;
        String naive = lean + File.pathSeparator + naiveExtra;
        Path aotCache = Files.createTempFile("beacon-", ".aot");

        try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests())) {
            stack.connect().setQuota(Quota.OFF);
            // Training run for the AOT cache: one cold close, recorded (JDK 25: -XX:AOTCacheOutput).
            Files.deleteIfExists(aotCache);
            run(stack, "lean", lean, List.of("-XX:AOTCacheOutput=" + aotCache));
            assertThat(aotCache).exists();

            Map<String, List<Long>> millis = new LinkedHashMap<>();
            for (int i = 0; i <= runs; i++) {
                for (String variant : List.of("naive", "lean", "lean+aot", "primed")) {
                    long took = switch (variant) {
                        case "naive" -> run(stack, "naive", naive, List.of());
                        case "lean" -> run(stack, "lean", lean, List.of());
                        case "primed" -> run(stack, "primed", lean, List.of());
                        default -> run(stack, "lean", lean, List.of("-XX:AOTCache=" + aotCache));
                    };
                    if (i > 0) {
                        millis.computeIfAbsent(variant, v -> new ArrayList<>()).add(took);
                    }
                }
            }
            long naiveMedian = median(millis.get("naive"));
            System.out.printf("cold-start: fresh JVM to the first handled close beacon, %d runs each, beacon.jar %.1f MB%n",
                    runs, Files.size(jar) / 1e6);
            millis.forEach((variant, values) -> System.out.printf("cold-start %-9s median %5d ms  min %5d ms  max %5d ms  (%.2f x naive; init phase median %d ms, first close alone median %d ms)  %s%n",
                    variant, median(values), values.stream().min(Long::compare).orElseThrow(),
                    values.stream().max(Long::compare).orElseThrow(), median(values) / (double) naiveMedian,
                    median(INIT_MILLIS.get(variant)), median(FIRST_MILLIS.get(variant)), values));
        } finally {
            Files.deleteIfExists(aotCache);
        }
    }

    /** One fresh JVM: registers a session (through the front), then times the child from start to its answer. */
    static long run(LocalStack stack, String mode, String classpath, List<String> extraFlags) throws Exception {
        String userId = "cold-" + UUID.randomUUID();
        stack.connect().addAgent(stack.instanceId(), userId, userId, "Cold", "Start", "rp-sales", "Available");
        JsonNode session = register(stack, userId);
        String origin = stack.config().allowedOrigins().getFirst();
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(LAMBDA_FLAGS);
        command.addAll(extraFlags);
        command.addAll(List.of("-Xlog:disable", "-Xlog:all=warning:stderr", "-cp", classpath, ColdStartProbe.class.getName(),
                mode, session.path("sessionId").asText(), session.path("token").asText(), origin));
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(key -> key.startsWith("AWS_") || key.equals("JAVA_TOOL_OPTIONS"));
        env.putAll(childEnvironment(stack));
        long start = System.nanoTime();
        Process process = builder.start();
        String answer = "no answer";
        long init = -1;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                if (line.equals("INIT")) {
                    init = (System.nanoTime() - start) / 1_000_000;
                } else if (line.startsWith("FIRST ")) {
                    FIRST_MILLIS.computeIfAbsent(mode + extraFlags.stream().filter(f -> f.startsWith("-XX:AOTCache=")).map(f -> "+aot").findFirst().orElse(""),
                            k -> new ArrayList<>()).add(Long.parseLong(line.substring(6)));
                } else if (line.startsWith("CLOSED ")) {
                    answer = line;
                    break;
                }
            }
        }
        long took = (System.nanoTime() - start) / 1_000_000;
        INIT_MILLIS.computeIfAbsent(mode + extraFlags.stream().filter(f -> f.startsWith("-XX:AOTCache=")).map(f -> "+aot").findFirst().orElse(""),
                k -> new ArrayList<>()).add(init);
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(answer).as(mode + " " + extraFlags).isEqualTo("CLOSED 202 {\"offline\":\"done\"}");
        return took;
    }

    static Map<String, String> childEnvironment(LocalStack stack) {
        Map<String, String> env = new HashMap<>(stack.environment());
        env.put("AWS_ACCESS_KEY_ID", "testing");
        env.put("AWS_SECRET_ACCESS_KEY", "testing");
        env.put("AWS_LAMBDA_FUNCTION_NAME", "BeaconFunction");
        env.put("AWS_EMF_ENVIRONMENT", "Local");
        env.put("AWS_ENDPOINT_URL_DYNAMODB", AwsEmulation.shared().endpoint().toString());
        env.put("AWS_ENDPOINT_URL_EVENTBRIDGE", AwsEmulation.shared().endpoint().toString());
        env.put("AWS_ENDPOINT_URL_CONNECT", stack.connect().endpoint().toString());
        return env;
    }

    static JsonNode register(LocalStack stack, String userId) throws Exception {
        String arn = backstop.local.DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + userId;
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(stack.frontUrl() + "/sessions"))
                .header("Content-Type", "text/plain;charset=UTF-8")
                .header("Authorization", "Bearer " + backstop.local.identity.Tokens.forAgentsOf(stack).apply(userId))
                .POST(HttpRequest.BodyPublishers.ofString("{\"agentArn\":\"" + arn + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(201);
        return JSON.readTree(response.body());
    }

    /**
     * The probe's classes alone, in a jar: test-classes also holds log4j2-test.xml, which must not reach the
     * child, and an AOT cache only accepts jars on the class path.
     */
    /** The benchmark's classes whose names start with one of {@code prefixes}, in a jar of their own for a child JVM. */
    static Path probeClasses(String... prefixes) throws Exception {
        Path source = Path.of(ColdStartProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path jar = Files.createTempFile("cold-start-probe-", ".jar");
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar));
             Stream<Path> files = Files.list(source.resolve("backstop/local/bench"))) {
            for (Path file : files.filter(f -> java.util.Arrays.stream(prefixes).anyMatch(f.getFileName().toString()::startsWith)).toList()) {
                out.putNextEntry(new java.util.jar.JarEntry("backstop/local/bench/" + file.getFileName()));
                out.write(Files.readAllBytes(file));
                out.closeEntry();
            }
        }
        jar.toFile().deleteOnExit();
        return jar;
    }

    static long median(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
