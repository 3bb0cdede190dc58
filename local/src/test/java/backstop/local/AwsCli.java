package backstop.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The installed AWS CLI (which nobody here wrote), run against an emulator with test credentials and nothing
 * from the caller's environment: no AWS_* variable, profile or config file of the machine leaks in.
 */
public final class AwsCli {
    private AwsCli() {
    }

    /** Runs {@code aws <args> --endpoint-url <endpoint> --region us-east-1 --output json}; its standard output, or an AssertionError. */
    public static String run(java.net.URI endpoint, String... args) {
        return run(endpoint, Map.of(), args);
    }

    /** As {@link #run(java.net.URI, String...)}, with more variables (e.g. AWS_ENDPOINT_URL_S3 for a command's second client). */
    public static String run(java.net.URI endpoint, Map<String, String> environment, String... args) {
        List<String> command = new ArrayList<>(List.of("aws"));
        command.addAll(List.of(args));
        command.addAll(List.of("--endpoint-url", endpoint.toString(), "--region", "us-east-1", "--output", "json"));
        ProcessBuilder builder = new ProcessBuilder(command);
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(name -> name.startsWith("AWS_"));
        env.put("AWS_ACCESS_KEY_ID", "testing");
        env.put("AWS_SECRET_ACCESS_KEY", "testing");
        env.put("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
        env.putAll(environment);
        try {
            env.put("AWS_CONFIG_FILE", config().toString());
            Path stderr = Files.createTempFile("aws-cli", ".err");
            try {
                Process process = builder.redirectError(stderr.toFile()).start();
                byte[] stdout = process.getInputStream().readAllBytes();
                if (!process.waitFor(120, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new AssertionError("aws " + String.join(" ", args) + " did not finish in 120 s");
                }
                if (process.exitValue() != 0) {
                    throw new AssertionError("aws " + String.join(" ", args) + " failed: " + Files.readString(stderr));
                }
                return new String(stdout, java.nio.charset.StandardCharsets.UTF_8);
            } finally {
                Files.deleteIfExists(stderr);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Path config() throws IOException {
        Path config = Files.createTempFile("aws-cli-config", "");
        config.toFile().deleteOnExit();
        Files.writeString(config, "[default]\ncli_timestamp_format = iso8601\n");
        return config;
    }
}
