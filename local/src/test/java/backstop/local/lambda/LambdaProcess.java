package backstop.local.lambda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/**
 * A built function started the way Lambda's managed Java runtime starts it: a JVM with the runtime's flags, the
 * runtime's own jars on the class path ({@code /var/runtime/lib}: AWS's runtime interface client, which loads the
 * function's code from the working directory, {@code /var/task} and its {@code lib/*.jar}), the handler as the only
 * argument, and an environment that holds exactly what Lambda sets plus the function's own variables. Nothing of
 * this JVM's environment leaks in (no {@code AWS_*} variable of the machine or of the build).
 * <p>
 * The flags are those Lambda's Java runtimes are seen to use (the runtime's launch line, as dumped from a live
 * function: {@code -XX:MaxHeapSize} at 85 % of the memory size, {@code -XX:+UseSerialGC},
 * {@code -XX:+TieredCompilation -XX:TieredStopAtLevel=1}, {@code --add-opens=java.base/java.io=ALL-UNNAMED},
 * {@code -Dorg.crac.Core.Compat=com.amazonaws.services.lambda.crac}, {@code -Djava.net.preferIPv4Stack=true},
 * {@code -XX:+ErrorFileToStderr}, the JNI library's path); not here: Lambda's own class-data archive
 * ({@code -Xshare:on -XX:SharedArchiveFile}) and the Log4j hot-patch agent, which change speed, not behaviour.
 */
final class LambdaProcess implements AutoCloseable {
    static final String AWS_LAMBDA = "com.amazonaws.services.lambda.runtime.api.client.AWSLambda";

    private final Process process;
    private final Path log;

    private LambdaProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code handler} from {@code taskRoot} (the function's ARTIFACTS_DIR) with {@code environment} as its
     * whole environment and {@code memoryMb} as its memory size; its output goes to {@code log}.
     */
    static LambdaProcess start(Path taskRoot, String handler, int memoryMb, Map<String, String> environment, Path log) {
        Path runtimeLib = runtimeLib();
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:MaxHeapSize=" + (memoryMb * 1024L * 85 / 100) + "k",
                "-XX:+UseSerialGC",
                "-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1",
                "--add-opens=java.base/java.io=ALL-UNNAMED",
                "-Dorg.crac.Core.Compat=com.amazonaws.services.lambda.crac",
                "-Djava.net.preferIPv4Stack=true",
                "-XX:+ErrorFileToStderr",
                "-Dcom.amazonaws.services.lambda.runtime.api.client.runtimeapi.NativeClient.JNI=" + jniLibrary(runtimeLib),
                "-classpath", classPath(runtimeLib),
                AWS_LAMBDA, handler));
        ProcessBuilder builder = new ProcessBuilder(command).directory(taskRoot.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().clear();
        builder.environment().putAll(environment);
        try {
            return new LambdaProcess(builder.start(), log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The runtime's jars, as Maven laid them out (local/pom.xml, lambda-runtime). */
    static Path runtimeLib() {
        Path lib = Path.of("target", "lambda-runtime", "lib").toAbsolutePath();
        if (!Files.isDirectory(lib)) {
            throw new IllegalStateException(lib + " is missing: run the tests through Maven (it copies Lambda's runtime jars there)");
        }
        return lib;
    }

    private static String classPath(Path lib) {
        try (Stream<Path> jars = Files.list(lib)) {
            return String.join(":", jars.filter(p -> p.toString().endsWith(".jar")).sorted().map(Path::toString).toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The runtime client's JNI library for this machine, where Lambda keeps it (beside the jars, under jni/). */
    private static synchronized Path jniLibrary(Path lib) {
        String arch = System.getProperty("os.arch").equals("aarch64") ? "aarch_64" : "x86_64";
        Path library = lib.resolveSibling("jni").resolve("libaws-lambda-jni.linux-" + arch + ".so");
        if (Files.exists(library)) {
            return library;
        }
        try (Stream<Path> jars = Files.list(lib)) {
            Path client = jars.filter(p -> p.getFileName().toString().startsWith("aws-lambda-java-runtime-interface-client"))
                    .findFirst().orElseThrow();
            try (ZipFile zip = new ZipFile(client.toFile())) {
                var entry = zip.getEntry("jni/" + library.getFileName());
                Files.createDirectories(library.getParent());
                try (InputStream in = zip.getInputStream(entry)) {
                    Files.copy(in, library, StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return library;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Waits for the process to end; its exit code, or null if it still runs. */
    Integer awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
    }

    /** What the function wrote (the runtime's and the function's log lines). */
    String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
