package backstop.reconciler;

import backstop.core.events.OutboxRelay;
import backstop.core.transition.TransitionQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * One scheduled invocation: sweeps for stale sessions every {@code sweepInterval} (so a crash is noticed
 * within about STALE_AFTER + SWEEP_INTERVAL, finer than the one-minute schedule) and, between sweeps, works
 * through due transitions as fast as the Connect rate allows, until the time budget is used up.
 */
public final class Reconciler {
    private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);

    /** Waits; in production it sleeps, in tests time is moved by hand. */
    @FunctionalInterface
    public interface Sleeper {
        void sleepUntil(Instant wake) throws InterruptedException;
    }

    /** What one invocation did. */
    public record Summary(int sweeps, int staleClosed, int transitionsClaimed) {
    }

    private final TransitionQueue store;
    private final StaleSessionSweep stale;
    private final DueTransitionSweep due;
    private final OutboxRelay outbox;
    private final ReconcilerMetrics metrics;
    private final Clock clock;
    private final Sleeper sleeper;
    private final Duration sweepInterval;
    private final double ratePerSecond;

    public Reconciler(TransitionQueue store, StaleSessionSweep stale, DueTransitionSweep due, OutboxRelay outbox,
                      ReconcilerMetrics metrics, Clock clock, Sleeper sleeper, Duration sweepInterval, double ratePerSecond) {
        this.outbox = outbox;
        this.store = store;
        this.stale = stale;
        this.due = due;
        this.metrics = metrics;
        this.clock = clock;
        this.sleeper = sleeper;
        this.sweepInterval = sweepInterval;
        this.ratePerSecond = ratePerSecond;
    }

    /** Runs sweeps until {@code stopTakingWorkAt}; every chunk of work taken fits before that moment. */
    public Summary run(Instant stopTakingWorkAt) {
        int sweeps = 0;
        int closed = 0;
        int claimed = 0;
        Instant nextSweep = clock.instant();
        try {
            while (true) {
                Instant now = clock.instant();
                if (!now.isBefore(stopTakingWorkAt)) {
                    break;
                }
                if (!now.isBefore(nextSweep)) {
                    closed += sweepStale(now);
                    sweeps++;
                    nextSweep = now.plus(sweepInterval);
                }
                // Chunks sized so the next stale sweep comes at most one chunk late, and so everything taken
                // finishes at the paced rate before the budget ends.
                int worked = due.processDue(chunkLimit(), stopTakingWorkAt);
                claimed += worked;
                if (worked == 0) {
                    Instant wake = nextSweep.isBefore(stopTakingWorkAt) ? nextSweep : stopTakingWorkAt;
                    if (wake.isAfter(clock.instant())) {
                        sleeper.sleepUntil(wake);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            due.awaitEvents();
            metrics.flush();
        }
        LOG.info("reconciler run: {} sweeps, {} stale sessions closed, {} transitions worked", sweeps, closed, claimed);
        return new Summary(sweeps, closed, claimed);
    }

    /** One stale sweep and all due work, without a time budget (tests drive time through the clock). */
    public Summary sweepOnce() {
        int closed = sweepStale(clock.instant());
        int claimed = 0;
        int worked;
        Instant noDeadline = clock.instant().plus(Duration.ofDays(365));
        while ((worked = due.processDue(chunkLimit(), noDeadline)) > 0) {
            claimed += worked;
        }
        due.awaitEvents();
        metrics.flush();
        return new Summary(1, closed, claimed);
    }

    private int chunkLimit() {
        long perSweep = (long) Math.floor(ratePerSecond * sweepInterval.toSeconds());
        return (int) Math.min(DueTransitionSweep.MAX_CHUNK, Math.max(DueTransitionSweep.MIN_CHUNK, perSweep));
    }

    /** A stale sweep; the events EventBridge refused earlier go out again with it. */
    private int sweepStale(Instant now) {
        outbox.relay();
        int closed = stale.sweep(now);
        metrics.staleSessionsClosed(closed);
        metrics.pendingBacklog(store.countDueTransitions(now));
        return closed;
    }
}
