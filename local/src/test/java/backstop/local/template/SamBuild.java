package backstop.local.template;

import backstop.local.aws.TemplateResources;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * `sam build` as SAM runs it for a function whose Metadata says {@code BuildMethod: makefile}, without the SAM CLI
 * (not installable here): what SAM's CustomMakeBuilder does (aws-lambda-builders): copy the CodeUri folder, less
 * .git and .aws-sam, to a scratch folder and run {@code make --makefile <CodeUri>/Makefile build-<LogicalId>} there
 * with ARTIFACTS_DIR set to an empty folder. {@link #artifacts()} builds every such function once per JVM, so the
 * tests that check the build and the tests that run what it built share one build.
 */
public final class SamBuild {
    public static final Path ROOT = TemplateResources.findTemplate().getParent();
    private static Map<String, Path> built;
    private static Path work;

    private SamBuild() {
    }

    /** Every makefile-built function's ARTIFACTS_DIR, by logical id, laid out as .aws-sam/build/<LogicalId>. */
    public static synchronized Map<String, Path> artifacts() {
        if (built == null) {
            Map<String, Path> artifacts = new LinkedHashMap<>();
            Path build = work().resolve("build");
            makefileFunctions().forEach((id, properties) -> artifacts.put(id, make(id, (String) properties.get("CodeUri"), build)));
            built = Map.copyOf(artifacts);
        }
        return built;
    }

    /** A scratch folder for this JVM's builds, removed when the JVM ends. */
    public static synchronized Path work() {
        if (work == null) {
            try {
                work = Files.createTempDirectory("sam-build-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Path root = work;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(root)));
        }
        return work;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> makefileFunctions() {
        TemplateResources template = TemplateResources.load(ROOT.resolve("template.yaml"));
        Map<String, Map<String, Object>> functions = new TreeMap<>();
        template.resources().forEach((id, value) -> {
            Map<String, Object> resource = (Map<String, Object>) value;
            Map<String, Object> metadata = (Map<String, Object>) resource.getOrDefault("Metadata", Map.of());
            if ("AWS::Serverless::Function".equals(resource.get("Type")) && "makefile".equals(metadata.get("BuildMethod"))) {
                functions.put(id, template.properties(id));
            }
        });
        return functions;
    }

    /** SAM's CustomMakeBuilder for one function; returns its ARTIFACTS_DIR under {@code buildDir}. */
    static Path make(String logicalId, String codeUri, Path buildDir) {
        try {
            Path source = ROOT.resolve(codeUri).normalize();
            Path makefile = source.resolve("Makefile");
            if (!Files.exists(makefile)) {
                throw new AssertionError("no Makefile in CodeUri " + codeUri);
            }
            Path scratch = work().resolve("scratch-" + UUID.randomUUID());
            copyTree(source, scratch);
            Path artifacts = Files.createDirectories(buildDir.resolve(logicalId));
            Path log = work().resolve("make-" + logicalId + "-" + UUID.randomUUID() + ".log");
            ProcessBuilder make = new ProcessBuilder("make", "--makefile", makefile.toString(), "build-" + logicalId)
                    .directory(scratch.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
            make.environment().put("ARTIFACTS_DIR", artifacts.toString());
            Process process = make.start();
            if (!process.waitFor(10, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError("make build-" + logicalId + " did not finish in 10 minutes");
            }
            if (process.exitValue() != 0) {
                throw new AssertionError("make build-" + logicalId + " failed:\n" + Files.readString(log));
            }
            delete(scratch);
            return artifacts;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** CopySourceAction: everything under {@code from} but .git and .aws-sam. */
    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path path : (Iterable<Path>) paths.filter(p -> !isExcluded(from.relativize(p)))::iterator) {
                Path target = to.resolve(from.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(target);
                } else if (Files.isRegularFile(path)) {
                    try {
                        Files.copy(path, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                    } catch (java.nio.file.NoSuchFileException gone) {
                        // a report the running build replaced while we copied: not source
                    }
                }
            }
        }
    }

    private static boolean isExcluded(Path relative) {
        return relative.getNameCount() > 0 && Stream.of(".git", ".aws-sam").anyMatch(relative.getName(0).toString()::equals);
    }

    /** Every file under {@code root} by relative path, with the SHA-256 of its bytes. */
    static Map<String, String> contents(Path root) {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : (Iterable<Path>) paths.filter(Files::isRegularFile)::iterator) {
                files.put(root.relativize(path).toString(), sha256(Files.readAllBytes(path)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void delete(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // best effort: a temp folder
        }
    }
}
