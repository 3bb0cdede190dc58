package backstop.local.template;

import backstop.local.aws.TemplateResources;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * `sam build` as SAM runs it for a function whose Metadata says {@code BuildMethod: makefile}, without the SAM CLI
 * (not installable here): what SAM's CustomMakeBuilder does (aws-lambda-builders CustomMakeWorkflow):
 * {@code make --makefile <CodeUri>/Makefile build-<LogicalId>} with ARTIFACTS_DIR set to an empty folder, run in the
 * CodeUri folder itself ({@code --build-in-source}: no copy), or, without that option, in a scratch copy of it less
 * .git and .aws-sam. {@link #inSource()} builds every such function in source once per JVM, as README builds them,
 * so the tests that check the build and the tests that run what it built share one build.
 */
public final class SamBuild {
    public static final Path ROOT = TemplateResources.findTemplate().getParent();
    /** Where the running suite's classes and jars are: what a build in this tree must leave as they are. */
    static final List<String> IN_USE = List.of("shared/target", "functions/beacon/target", "functions/reconciler/target");

    /** Where SAM runs make: the CodeUri folder itself, or a scratch copy of it. */
    enum Where { IN_SOURCE, SCRATCH_COPY }

    /**
     * The in-source build: each function's ARTIFACTS_DIR by logical id (laid out as .aws-sam/build/<LogicalId>), and
     * the tree's in-use target/ folders and {@code git status} just before and just after it.
     */
    public record Build(Map<String, Path> artifacts, Map<String, String> inUseBefore, Map<String, String> inUseAfter,
                        String gitStatusBefore, String gitStatusAfter) {
    }

    private static Build inSource;
    private static Path work;

    private SamBuild() {
    }

    /** The in-source build of this JVM (made on first use). */
    public static synchronized Build inSource() {
        if (inSource == null) {
            try {
                Map<String, String> stampsBefore = stamps(IN_USE);
                String statusBefore = gitStatus();
                Map<String, Path> artifacts = new LinkedHashMap<>();
                Path build = work().resolve("build");
                makefileFunctions().forEach((id, properties) ->
                        artifacts.put(id, make(id, (String) properties.get("CodeUri"), build, Where.IN_SOURCE)));
                inSource = new Build(Map.copyOf(artifacts), stampsBefore, stamps(IN_USE), statusBefore, gitStatus());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return inSource;
    }

    /** Every makefile-built function's artifact folder, by logical id, from {@link #inSource()}. */
    public static Map<String, Path> artifacts() {
        return inSource().artifacts();
    }

    /** A scratch folder for this JVM's builds, removed when the JVM ends. */
    static synchronized Path work() {
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

    /**
     * SAM's CustomMakeBuilder for one function; returns its ARTIFACTS_DIR under {@code buildDir}. In source, make runs
     * in the CodeUri folder (CustomMakeWorkflow adds no CopySourceAction when the build folder is the source folder);
     * otherwise in a scratch copy, with the Makefile still named by its path in the source folder.
     */
    static Path make(String logicalId, String codeUri, Path buildDir, Where where) {
        try {
            Path source = ROOT.resolve(codeUri).normalize();
            Path makefile = source.resolve("Makefile");
            if (!Files.exists(makefile)) {
                throw new AssertionError("no Makefile in CodeUri " + codeUri);
            }
            Path scratch = source;
            if (where == Where.SCRATCH_COPY) {
                scratch = work().resolve("scratch-" + UUID.randomUUID());
                copyTree(source, scratch);
            }
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
            if (where == Where.SCRATCH_COPY) {
                delete(scratch);
            }
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

    /** Every file under the given folders of the repository, by path, with its size and time of last change. */
    static Map<String, String> stamps(List<String> folders) throws IOException {
        Map<String, String> stamps = new TreeMap<>();
        for (String folder : folders) {
            Path root = ROOT.resolve(folder);
            if (!Files.isDirectory(root)) {
                continue;
            }
            try (Stream<Path> paths = Files.walk(root)) {
                for (Path path : (Iterable<Path>) paths.filter(Files::isRegularFile)::iterator) {
                    stamps.put(ROOT.relativize(path).toString(), Files.size(path) + " " + Files.getLastModifiedTime(path));
                }
            }
        }
        return stamps;
    }

    /** `git status` of the repository, untracked files one by one (ignored ones, such as target/, left out). */
    static String gitStatus() {
        try {
            Process git = new ProcessBuilder("git", "status", "--porcelain", "--untracked-files=all").directory(ROOT.toFile())
                    .redirectErrorStream(true).start();
            String status = new String(git.getInputStream().readAllBytes());
            if (!git.waitFor(60, TimeUnit.SECONDS) || git.exitValue() != 0) {
                throw new AssertionError("git status: " + status);
            }
            return status;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
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
