package backstop.reconciler;

import backstop.core.events.OutboxRelay;
import backstop.core.session.IndexBackfilling;
import backstop.core.session.TableLayout;
import backstop.core.transition.TransitionQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;

/**
 * One scheduled invocation: sweeps for stale sessions every {@code sweepInterval} (so a crash is noticed
 * within about STALE_AFTER + SWEEP_INTERVAL, finer than the one-minute schedule) and, between sweeps, works
 * through due transitions as fast as the Connect rate allows, until the time budget is used up. Due work stops
 * taking chunks at the next sweep's time, whatever the backlog: at a shift end with hundreds due, crashes are still
 * found every sweep interval (a chunk is what fits before the next sweep at the paced rate: 22 at 1.5/s); and it
 * always gets at least a third of the interval, however long a sweep ran.
 *
 * <p>A run with nothing to watch ends after its first sweep: no session open in any shard and no transition due
 * before its budget ends. Nothing is lost by stopping: a session opened after that cannot go stale before
 * STALE_AFTER, and the next scheduled run (at most {@link #SCHEDULE_PERIOD} later) sweeps it in time, so this
 * holds only while STALE_AFTER is at least the schedule's period. Nights and weekends then cost a fraction of a
 * second a minute instead of the whole budget.
 *
 * <p>A deploy that adds one of the sparse indexes finishes before DynamoDB has filled it, and until the index is
 * ACTIVE every query on it is refused ({@link IndexBackfilling}). The sweep that needs that index is skipped and
 * counted, with one warning an index a run saying what waits; the other sweep goes on, and the run ends normally
 * (a failed run would only fail again every minute). Once the index answers, the next sweep finds everything it
 * missed: stale sessions by their {@code lastSeen}, transitions by their due time. A run that met a backfilling
 * index never ends early as idle: it cannot tell that nothing is open or due.
 */
public final class Reconciler {
    private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);
    /** How often the schedule invokes the reconciler (template.yaml: rate(1 minute)). */
    public static final Duration SCHEDULE_PERIOD = Duration.ofMinutes(1);
    /**
     * How often a run with no due work looks at the hand-over count between sweeps: one GetItem (half a read unit),
     * 60 a minute at most while sessions are open (docs/benchmarks.md, Cost), where looking at the due index would be
     * 16 Queries each time.
     */
    static final Duration HANDOVER_POLL = Duration.ofSeconds(1);

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
    /** The indexes found backfilling in the current run (each one is logged once a run). */
    private final Set<String> backfilling = new HashSet<>();
    private boolean handOverCountUnreadable;

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
        boolean woken = false;
        Instant nextSweep = clock.instant();
        Instant dueFloor = nextSweep;
        backfilling.clear();
        handOverCountUnreadable = false;
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
                    dueFloor = clock.instant().plus(dueSlice()); // set once a sweep, not at every pass
                    if (sweeps == 1 && nothingToWatch(stopTakingWorkAt)) {
                        idle = true;
                        break;
                    }
                }
                long handOversSeen = handOvers(-1);
                int worked = workDue(dueUntil(nextSweep, dueFloor, stopTakingWorkAt));
                claimed += worked;
                Instant wake = nextSweep.isBefore(stopTakingWorkAt) ? nextSweep : stopTakingWorkAt;
                if (worked > 0) {
                    woken = false;
                } else if (woken) {
                    // Woken by a hand-over, and the look found nothing: the due index (a GSI, eventually consistent,
                    // usually within a second) may not show the release yet. One more look a poll later, then idle.
                    woken = false;
                    Instant again = clock.instant().plus(HANDOVER_POLL);
                    if (wake.isAfter(clock.instant())) {
                        sleeper.sleepUntil(again.isBefore(wake) ? again : wake);
                    }
                } else {
                    woken = idleUntil(wake, handOversSeen);
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

    /**
     * Waits for {@code wake} (the next sweep, or the budget's end), looking every {@link #HANDOVER_POLL} whether a
     * close handed a transition over since the due work last looked (then returns at once, to work it): at a shift end,
     * a close that found no Connect turn within its wait is set Offline seconds later, not a sweep interval later. The
     * look is one eventually consistent GetItem; a count that cannot be read wakes nothing (the sweep finds the work).
     * True when a hand-over woke it.
     */
    private boolean idleUntil(Instant wake, long handOversSeen) throws InterruptedException {
        while (clock.instant().isBefore(wake)) {
            Instant look = clock.instant().plus(HANDOVER_POLL);
            sleeper.sleepUntil(look.isBefore(wake) ? look : wake);
            if (clock.instant().isBefore(wake) && handOvers(handOversSeen) != handOversSeen) {
                return true;
            }
        }
        return false;
    }

    /** The hand-over count, or {@code otherwise} when it cannot be read (logged once a run). */
    private long handOvers(long otherwise) {
        try {
            return store.handOvers();
        } catch (RuntimeException e) {
            if (!handOverCountUnreadable) {
                handOverCountUnreadable = true;
                LOG.warn("the hand-over count cannot be read ({}): handed-over transitions wait for the next stale sweep", e.toString());
            }
            return otherwise;
        }
    }

    /**
     * Until when due work may take chunks: the next stale sweep (a backlog of due transitions never delays the crash
     * path's sweep by more than a chunk in flight), but at least a third of the sweep interval and two paced calls
     * after each sweep ends (a sweep that ran long, or a short interval, must not starve the due work: the sweep then comes that
     * much late), never past the budget.
     */
    private static Instant dueUntil(Instant nextSweep, Instant dueFloor, Instant stopTakingWorkAt) {
        Instant until = nextSweep.isAfter(dueFloor) ? nextSweep : dueFloor;
        return until.isBefore(stopTakingWorkAt) ? until : stopTakingWorkAt;
    }

    /** What due work gets after each sweep at least (two paced calls, not one: one call's time would round down to none). */
    private Duration dueSlice() {
        return Duration.ofMillis((long) Math.max(sweepInterval.toMillis() / 3.0, Math.ceil(2000 / ratePerSecond)));
    }

    /** No session open after the first sweep, and no transition due before the budget ends. */
    private boolean nothingToWatch(Instant stopTakingWorkAt) {
        if (!mayEndWhenIdle || !backfilling.isEmpty() || stale.openInLastSweep() != 0) {
            return false;
        }
        try {
            return store.countDueTransitions(stopTakingWorkAt) == 0;
        } catch (IndexBackfilling e) {
            waitFor(e);
            return false;
        }
    }

    /** One stale sweep and all due work, without a time budget (tests drive time through the clock). */
    public Summary sweepOnce() {
        backfilling.clear();
        int closed = sweepStale(clock.instant());
        int claimed = 0;
        int worked;
        Instant noDeadline = clock.instant().plus(Duration.ofDays(365));
        while ((worked = workDue(noDeadline)) > 0) {
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
        int closed = 0;
        try {
            closed = stale.sweep(now);
        } catch (IndexBackfilling e) {
            skipped(e);
        }
        metrics.staleSessionsClosed(closed);
        try {
            metrics.pendingBacklog(store.countDueTransitions(now));
        } catch (IndexBackfilling e) {
            waitFor(e); // no backlog datapoint: the due sweep that cannot run is what gets counted
        }
        return closed;
    }

    /** Due work, unless the due index is still backfilling (then nothing, and the run waits for its next sweep). */
    private int workDue(Instant stopBy) {
        try {
            return due.processDue(chunkLimit(), stopBy);
        } catch (IndexBackfilling e) {
            skipped(e);
            return 0;
        }
    }

    private void skipped(IndexBackfilling e) {
        metrics.sweepSkippedIndexBackfilling();
        waitFor(e);
    }

    private void waitFor(IndexBackfilling e) {
        if (backfilling.add(e.index())) {
            LOG.warn("index {} is still backfilling (DynamoDB refuses every query on it until it is ACTIVE): {} until then;"
                    + " the sweeps that need it are skipped, the run goes on", e.index(), whatWaits(e.index()));
        }
    }

    private static String whatWaits(String index) {
        return switch (index) {
            case TableLayout.OPEN_SESSIONS_INDEX -> "no stale session is found or closed (an agent whose tab crashed stays Available)";
            case TableLayout.DUE_TRANSITIONS_INDEX -> "no due Offline transition is worked and the backlog is not counted"
                    + " (stale closes and closes the beacon could not finish queue theirs)";
            default -> "what reads it waits";
        };
    }
}
