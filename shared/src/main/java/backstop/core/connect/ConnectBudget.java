package backstop.core.connect;

import java.time.Duration;

/**
 * Turns for our own Connect calls, per operation (Connect's quotas are per operation, per account and Region).
 * {@link ConnectPacer} keeps one process's calls under a rate; a shared budget keeps every container's calls
 * together under it (the beacon runs in as many Lambda containers as there are concurrent requests).
 */
public interface ConnectBudget {
    /**
     * Waits until a call of {@code operation} may go out, if that is within {@code maxWait}; false (no turn taken)
     * when it would come later, or at once when {@code maxWait} is negative.
     */
    boolean acquireWithin(String operation, Duration maxWait) throws InterruptedException;

    /** Waits until a call of {@code operation} may go out. */
    void acquire(String operation) throws InterruptedException;
}
