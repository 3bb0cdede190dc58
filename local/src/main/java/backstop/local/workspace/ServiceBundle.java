package backstop.local.workspace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.stream.Stream;

/**
 * The Agent Workspace service is an esbuild bundle (web/workspace/build.mjs: the SDK's ES modules need one);
 * the local stack builds it when web/workspace/dist is missing or older than its sources, so the run command and
 * the browser tests serve what the sources say (npm ci in web/ first, as for the CCP page).
 */
public final class ServiceBundle {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ServiceBundle.class);

    private ServiceBundle() {
    }

    public static synchronized void ensureBuilt(Path webRoot) {
        Path dist = webRoot.resolve("workspace/dist/service.js");
        try {
            if (Files.exists(dist) && newest(webRoot.resolve("workspace/src")).compareTo(Files.getLastModifiedTime(dist)) <= 0
                    && newest(webRoot.resolve("client")).compareTo(Files.getLastModifiedTime(dist)) <= 0) {
                return;
            }
            Process build = new ProcessBuilder("node", "workspace/build.mjs").directory(webRoot.toFile()).inheritIO().start();
            if (build.waitFor() != 0) {
                // Only the workspace service needs it: the API, the CCP page and their tests run on without it.
                LOG.warn("node workspace/build.mjs failed in {} (npm ci in web/ first): the Agent Workspace service will not load", webRoot);
            }
        } catch (IOException e) {
            LOG.warn("cannot build the Agent Workspace service ({}): it will not load", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building the workspace service", e);
        }
    }

    private static FileTime newest(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).filter(p -> p.toString().endsWith(".js")).map(p -> {
                try {
                    return Files.getLastModifiedTime(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).max(FileTime::compareTo).orElse(FileTime.fromMillis(0));
        }
    }
}
