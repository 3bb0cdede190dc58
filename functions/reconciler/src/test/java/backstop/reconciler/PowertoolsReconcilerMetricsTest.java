package backstop.reconciler;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The EMF document the reconciler writes: the names and dimensions the template's alarms and dashboard use. */
class PowertoolsReconcilerMetricsTest {

    @Test
    void flush_should_writeOneEmfDocumentWithTheAlarmedMetrics() {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            PowertoolsReconcilerMetrics metrics = new PowertoolsReconcilerMetrics();
            metrics.staleSessionsClosed(3);
            metrics.transitionFailed();
            metrics.connectThrottled();
            metrics.pendingBacklog(7);
            metrics.pendingBacklog(4);
            metrics.sweepSkippedIndexBackfilling();
            metrics.sweepSkippedIndexBackfilling();
            metrics.flush();
        } finally {
            System.setOut(original);
        }
        String emf = out.toString(StandardCharsets.UTF_8);

        assertThat(emf).contains("\"Namespace\":\"ccp-backstop\"").contains("\"Dimensions\":[[\"service\"]]")
                .contains("\"StaleSessionsClosed\":3.0", "\"OfflineTransitionsFailed\":1.0", "\"ConnectThrottles\":1.0",
                        "\"PendingBacklog\":7.0", "\"SweepsSkippedIndexBackfilling\":2.0");
    }
}
