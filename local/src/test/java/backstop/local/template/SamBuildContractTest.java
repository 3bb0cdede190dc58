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
 * `sam build --build-in-source && sam deploy` as SAM runs them, without the SAM CLI (not installable here):
 * {@link SamBuild} builds each function as SAM's CustomMakeBuilder does. Then: the artifact is what Lambda's java25
 * runtime loads (the handler class on a class path of the artifact alone), a build in the source tree changes
 * nothing there (not the target/ folders the test suite running there reads), a clean build from a scratch copy
 * gives the same bytes, and `aws cloudformation package` (what `sam deploy` does with the built template) uploads
 * every artifact to S3 (moto's) and rewrites every CodeUri.
 */
class SamBuildContractTest {
    static final Path ROOT = SamBuild.ROOT;
    @TempDir
    static Path work;
    /** The in-source build of this JVM, shared with the Lambda environment contract test, which runs what it built. */
    static SamBuild.Build build;
    /** LogicalId -> its ARTIFACTS_DIR, laid out as .aws-sam/build/<LogicalId>, built in source. */
    static Map<String, Path> BUILT;

    @BeforeAll
    static void samBuild() {
        build = SamBuild.inSource();
        BUILT = build.artifacts();
        assertThat(BUILT).as("functions built by the Makefile").containsOnlyKeys("BeaconFunction", "ReconcilerFunction");
    }

    @Test
    void buildInSource_should_leaveTheSourceTree_andItsTargetFolders_asTheyWere() {
        assertThat(build.inUseAfter()).as("the target/ folders of the tree the build ran in").isEqualTo(build.inUseBefore());
        assertThat(build.gitStatusAfter()).as("git status of the tree the build ran in").isEqualTo(build.gitStatusBefore());
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
            Path second = SamBuild.make(function.getKey(), (String) function.getValue().get("CodeUri"), again, SamBuild.Where.SCRATCH_COPY);
            assertThat(contents(second)).as("%s: second build, from a scratch copy, same bytes", function.getKey())
                    .isEqualTo(contents(BUILT.get(function.getKey())));
        }
    }

    @Test
    void cloudformationPackage_should_uploadEveryArtifact_andRewriteEveryCodeUri() throws Exception {
        // Beside the artifacts, as in .aws-sam/build: each CodeUri names its function's folder there.
        Path builtTemplate = BUILT.values().iterator().next().getParent().resolve("template.yaml");
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

    static Map<String, Map<String, Object>> makefileFunctions() {
        return SamBuild.makefileFunctions();
    }

    static Map<String, String> contents(Path root) {
        return SamBuild.contents(root);
    }

    static String sha256(byte[] bytes) {
        return SamBuild.sha256(bytes);
    }
}
