package backstop.local.browser;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/** A virtual X display for the few browser tests that need a real window (tabs that really go hidden). */
final class Xvfb implements AutoCloseable {
    static final Path EXECUTABLE = Path.of("/usr/bin/Xvfb");
    private final Process process;
    private final int number;

    private Xvfb(Process process, int number) {
        this.process = process;
        this.number = number;
    }

    static Xvfb start() throws IOException {
        if (!Files.isExecutable(EXECUTABLE)) {
            throw new IllegalStateException("Xvfb is missing: apt-get install -y xvfb");
        }
        for (int number = 90 + (int) (ProcessHandle.current().pid() % 100); ; number++) {
            if (Files.exists(Path.of("/tmp/.X11-unix/X" + number)) || Files.exists(Path.of("/tmp/.X" + number + "-lock"))) {
                continue;
            }
            Process process = new ProcessBuilder(EXECUTABLE.toString(), ":" + number, "-screen", "0", "1280x800x24",
                    "-nolisten", "tcp").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            Path socket = Path.of("/tmp/.X11-unix/X" + number);
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(socket) || !process.isAlive());
            if (process.isAlive()) {
                return new Xvfb(process, number);
            }
        }
    }

    String display() {
        return ":" + number;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
