package backstop.local.template;

import backstop.local.AwsCli;
import backstop.local.aws.AwsEmulation;
import backstop.local.aws.TemplateResources;
import com.amazonaws.services.lambda.runtime.Context;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `sam build --build-in-source && sam deploy` as SAM runs them, without the SAM CLI (not installable here): for each
 * function whose Metadata says {@code BuildMethod: makefile}, what SAM's CustomMakeBuilder does (aws-lambda-builders
 * CustomMakeWorkflow): {@code make --makefile <CodeUri>/Makefile build-<LogicalId>} with ARTIFACTS_DIR set to an
 * empty folder, run in the CodeUri folder itself (build in source: no copy), or, without that option, in a scratch
 * copy of it less .git and .aws-sam. Then: the artifact is what Lambda's java25 runtime loads (the handler class on
 * a class path of the artifact alone), a build in the source tree changes nothing there (not the target/ folders
 * the test suite running there reads), a clean build from a scratch copy gives the same bytes, and `aws
 * cloudformation package` (what `sam deploy` does with the built template) uploads every artifact to S3 (moto's)
 * and rewrites every CodeUri.
 */
class SamBuildContractTest {
    static final Path ROOT = TemplateResources.findTemplate().getParent();
    /** Where the running suite's classes and jars are: what a build in this tree must leave as they are. */
    static final List<String> IN_USE = List.of("shared/target", "functions/beacon/target", "functions/reconciler/target");
    @TempDir
    static Path work;
    /** LogicalId -> its ARTIFACTS_DIR, laid out as .aws-sam/build/<LogicalId>, built in source. */
    static final Map<String, Path> BUILT = new LinkedHashMap<>();
    static Map<String, String> inUseBefore;
    static Map<String, String> inUseAfter;
    static String gitStatusBefore;
    static String gitStatusAfter;

    /** Where SAM runs make: the CodeUri folder itself, or a scratch copy of it. */
    enum Where { IN_SOURCE, SCRATCH_COPY }

    @BeforeAll
    static void samBuild() throws Exception {
        Path build = work.resolve("build");
        inUseBefore = stamps(IN_USE);
        gitStatusBefore = gitStatus();
        for (Map.Entry<String, Map<String, Object>> function : makefileFunctions().entrySet()) {
            BUILT.put(function.getKey(), make(function.getKey(), (String) function.getValue().get("CodeUri"), build, Where.IN_SOURCE));
        }
        inUseAfter = stamps(IN_USE);
        gitStatusAfter = gitStatus();
        assertThat(BUILT).as("functions built by the Makefile").containsOnlyKeys("BeaconFunction", "ReconcilerFunction");
    }

    @Test
    void buildInSource_should_leaveTheSourceTree_andItsTargetFolders_asTheyWere() {
        assertThat(inUseAfter).as("the target/ folders of the tree the build ran in").isEqualTo(inUseBefore);
        assertThat(gitStatusAfter).as("git status of the tree the build ran in").isEqualTo(gitStatusBefore);
    }

    @Test
    void artifact_should_holdTheHandler_loadableOnAClassPathOfTheArtifactAlone() throws Exception {
        TemplateResources template = TemplateResources.load(ROOT.resolve("template.yaml"));
        for (Map.Entry<String, Path> built : BUILT.entrySet()) {
            String handler = (String) template.properties(built.getKey()).get("Handler");
            String className = handler.substring(0, handler.indexOf("::"));
            // Lambda's Java runtimes put the package root and every jar of lib/ on the class path.
            List<URL> classPath = new ArrayList<>(List.of(built.getValue().toUri().toURL()));
            try (Stream<Path> jars = Files.list(built.getValue().resolve("lib"))) {
                for (Path jar : jars.sorted().toList()) {
                    classPath.add(jar.toUri().toURL());
                }
            }
            assertThat(classPath).as("%s: lib/ holds the function's jar", built.getKey()).hasSizeGreaterThan(1);
            try (URLClassLoader loader = new URLClassLoader(classPath.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
                Class<?> type = Class.forName(className, false, loader);
                assertThat(type.getClassLoader()).as("%s comes from the artifact", className).isSameAs(loader);
                Class<?> requestHandler = loader.loadClass("com.amazonaws.services.lambda.runtime.RequestHandler");
                assertThat(requestHandler.isAssignableFrom(type)).as("%s is a RequestHandler", className).isTrue();
                assertThat(java.lang.reflect.Modifier.isPublic(type.getConstructor().getModifiers())).isTrue();
                Class<?> context = loader.loadClass(Context.class.getName());
                assertThat(type.getMethod(handler.substring(handler.indexOf("::") + 2), Object.class, context))
                        .as("%s::handleRequest(event, Context)", className).isNotNull();
                // Everything its signatures name resolves from the artifact (a missing dependency throws here).
                assertThat(type.getDeclaredMethods()).isNotEmpty();
                assertThat(type.getDeclaredConstructors()).isNotEmpty();
            }
        }
    }

    /** Also what `sam build` without build-in-source gives: the scratch copy holds every target/, stale or not. */
    @Test
    void twoCleanBuilds_should_giveByteIdenticalArtifacts_inSourceAndFromAScratchCopy() throws Exception {
        Path again = work.resolve("build-again");
        for (Map.Entry<String, Map<String, Object>> function : makefileFunctions().entrySet()) {
            Path second = make(function.getKey(), (String) function.getValue().get("CodeUri"), again, Where.SCRATCH_COPY);
            assertThat(contents(second)).as("%s: second build, from a scratch copy, same bytes", function.getKey())
                    .isEqualTo(contents(BUILT.get(function.getKey())));
        }
    }

    @Test
    void cloudformationPackage_should_uploadEveryArtifact_andRewriteEveryCodeUri() throws Exception {
        Path builtTemplate = work.resolve("build").resolve("template.yaml");
        Files.writeString(builtTemplate, builtTemplate(Files.readString(ROOT.resolve("template.yaml"))));
        String bucket = "sam-artifacts-" + UUID.randomUUID();
        java.net.URI moto = AwsEmulation.shared().endpoint();
        AwsCli.run(moto, "s3api", "create-bucket", "--bucket", bucket);
        Path packaged = work.resolve("packaged.yaml");

        // `package` uploads with an S3 client of its own, which --endpoint-url does not reach.
        AwsCli.run(moto, Map.of("AWS_ENDPOINT_URL_S3", moto.toString()), "cloudformation", "package", "--template-file", builtTemplate.toString(),
                "--s3-bucket", bucket, "--output-template-file", packaged.toString());

        TemplateResources result = TemplateResources.load(packaged);
        for (Map.Entry<String, Path> built : BUILT.entrySet()) {
            String codeUri = (String) result.properties(built.getKey()).get("CodeUri");
            assertThat(codeUri).as("%s CodeUri", built.getKey()).startsWith("s3://" + bucket + "/");
            Path zip = work.resolve(built.getKey() + ".zip");
            AwsCli.run(moto, "s3", "cp", codeUri, zip.toString());
            try (ZipFile uploaded = new ZipFile(zip.toFile())) {
                Map<String, String> entries = new TreeMap<>();
                for (var entry : java.util.Collections.list(uploaded.entries())) {
                    if (!entry.isDirectory()) {
                        entries.put(entry.getName(), sha256(uploaded.getInputStream(entry).readAllBytes()));
                    }
                }
                assertThat(entries).as("%s: the uploaded package is the built artifact", built.getKey())
                        .isEqualTo(contents(built.getValue()));
            }
        }
    }

    /** The template as `sam build` writes it to .aws-sam/build: each built function's CodeUri is its artifact folder. */
    static String builtTemplate(String template) {
        StringBuilder out = new StringBuilder();
        String resource = null;
        for (String line : template.split("\n", -1)) {
            if (line.matches("^  [A-Za-z0-9]+:\\s*$")) {
                resource = line.trim().replace(":", "");
            }
            if (resource != null && BUILT.containsKey(resource) && line.matches("^      CodeUri: .*$")) {
                line = "      CodeUri: " + resource;
            }
            out.append(line).append('\n');
        }
        return out.toString();
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
    static Path make(String logicalId, String codeUri, Path buildDir, Where where) throws Exception {
        Path source = ROOT.resolve(codeUri).normalize();
        Path makefile = source.resolve("Makefile");
        assertThat(makefile).as("the Makefile of CodeUri %s", codeUri).exists();
        Path scratch = source;
        if (where == Where.SCRATCH_COPY) {
            scratch = work.resolve("scratch-" + UUID.randomUUID());
            copyTree(source, scratch);
        }
        Path artifacts = Files.createDirectories(buildDir.resolve(logicalId));
        Path log = work.resolve("make-" + logicalId + "-" + UUID.randomUUID() + ".log");
        ProcessBuilder make = new ProcessBuilder("make", "--makefile", makefile.toString(), "build-" + logicalId)
                .directory(scratch.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        make.environment().put("ARTIFACTS_DIR", artifacts.toString());
        Process process = make.start();
        assertThat(process.waitFor(10, TimeUnit.MINUTES)).as("make build-%s finished", logicalId).isTrue();
        assertThat(process.exitValue()).as("make build-%s:%n%s", logicalId, Files.readString(log)).isZero();
        return artifacts;
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
    static String gitStatus() throws Exception {
        Process git = new ProcessBuilder("git", "status", "--porcelain", "--untracked-files=all").directory(ROOT.toFile())
                .redirectErrorStream(true).start();
        String status = new String(git.getInputStream().readAllBytes());
        assertThat(git.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(git.exitValue()).as("git status: %s", status).isZero();
        return status;
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
}
