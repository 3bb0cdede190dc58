package backstop.beacon;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The EMF the beacon writes: nothing for a request that counted nothing; a close's counts with its duration. */
class BeaconMetricsTest {

    static String written(Runnable work) {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            work.run();
        } finally {
            System.setOut(original);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void flush_should_writeTheCloseDuration_withTheTransitionItTimed() {
        BeaconMetrics metrics = new BeaconMetrics();
        String emf = written(() -> {
            metrics.transitionDone(false);
            metrics.closeTook(87);
            metrics.flush();
        });
        assertThat(emf).contains("\"Namespace\":\"ccp-backstop\"", "\"OfflineTransitionsDone\":1.0", "\"CloseDuration\":87.0",
                "\"Unit\":\"Milliseconds\"");
    }

    @Test
    void flush_should_writeNothing_forACloseThatCountedNothing_andForgetItsDuration() {
        BeaconMetrics metrics = new BeaconMetrics();
        String quiet = written(() -> {
            metrics.closeTook(5); // a close that was not the agent's last tab: no transition, no document
            metrics.flush();
        });
        String next = written(() -> {
            metrics.transitionFailed();
            metrics.flush();
        });
        assertThat(quiet).isEmpty();
        assertThat(next).contains("\"OfflineTransitionsFailed\":1.0").doesNotContain("CloseDuration");
    }
}
