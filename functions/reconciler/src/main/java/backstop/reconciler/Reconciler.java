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
 *
 * <p>A run with nothing to watch ends after its first sweep: no session open in any shard and no transition due
 * before its budget ends. Nothing is lost by stopping: a session opened after that cannot go stale before
 * STALE_AFTER, and the next scheduled run (at most {@link #SCHEDULE_PERIOD} later) sweeps it in time, so this
 * holds only while STALE_AFTER is at least the schedule's period. Nights and weekends then cost a fraction of a
 * second a minute instead of the whole budget.
 */
public final class Reconciler {
    private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);
    /** How often the schedule invokes the reconciler (template.yaml: rate(1 minute)). */
    public static final Duration SCHEDULE_PERIOD = Duration.ofMinutes(1);

    /** Waits; in production it sleeps, in tests time is moved by hand. */
    @FunctionalInterface
    public interface Sleeper {
        void sleepUntil(Instant wake) throws InterruptedException;
    }

    /** What one invocation did; {@code idle}: it ended early, nothing open and nothing due. */
    public record Summary(int sweeps, int staleClosed, int transitionsClaimed, boolean idle) {
        public Summary(int sweeps, int staleClosed, int transitionsClaimed) {
            this(sweeps, staleClosed, transitionsClaimed, false);
        }
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
    private final boolean mayEndWhenIdle;

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
        this.mayEndWhenIdle = !stale.staleAfter().minus(SCHEDULE_PERIOD).isNegative();
    }

    /** Runs sweeps until {@code stopTakingWorkAt}; every chunk of work taken fits before that moment. */
    public Summary run(Instant stopTakingWorkAt) {
        int sweeps = 0;
        int closed = 0;
        int claimed = 0;
        boolean idle = false;
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
                    if (sweeps == 1 && nothingToWatch(stopTakingWorkAt)) {
                        idle = true;
                        break;
                    }
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
        if (!idle) {
            LOG.info("reconciler run: {} sweeps, {} stale sessions closed, {} transitions worked", sweeps, closed, claimed);
        }
        return new Summary(sweeps, closed, claimed, idle);
    }

    /** No session open after the first sweep, and no transition due before the budget ends. */
    private boolean nothingToWatch(Instant stopTakingWorkAt) {
        return mayEndWhenIdle && stale.openInLastSweep() == 0 && store.countDueTransitions(stopTakingWorkAt) == 0;
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
