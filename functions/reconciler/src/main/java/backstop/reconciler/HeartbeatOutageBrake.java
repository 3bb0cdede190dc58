package backstop.reconciler;

import backstop.core.config.BackstopConfig;
import backstop.core.events.BackstopEvent;
import backstop.core.events.EventPublisher;
import backstop.core.session.HeartbeatOutage;
import backstop.core.session.OutageLedger;
import backstop.core.session.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Optional;

/**
 * The brake on mass staleness: tells "every agent left" from "the path their heartbeats take is broken". When
 * more than {@code share} of the open sessions have missed their heartbeats at once (silent for longer than the
 * stale limit less one heartbeat period: each has missed at least one beat and its retry), and at least
 * {@code minimum} of them, the fault is far more likely the API's, the Region's or the network's than the agents'
 * (Kubernetes' node lifecycle controller stops evicting for the same reason when most of a zone stops reporting):
 * the stale sweep then holds its stale sessions instead of setting their agents Offline, records the outage
 * ({@link OutageLedger}), publishes {@code Heartbeat Outage Suspected} and counts the held sessions
 * ({@code SessionsHeld}, HeartbeatOutageAlarm).
 * <p>
 * It releases when a sweep's sample shows the beats back (the silent share at or under half of {@code share}, or
 * fewer than {@code minimum}): sessions that beat again simply continue, and a session still silent is closed only a
 * full stale limit after the first heartbeat seen since the outage began ({@code recoveredAt}), as if that were
 * its last beat, so a page that needs a while to beat again is not taken for a departure. A hold lasts at most
 * {@code maxHold} (0: until the beats come back): after that the stale sweep closes as usual, the record stays
 * engaged until the beats come back.
 * <p>
 * It decides from sessions' own {@code lastSeen}, written only by heartbeats that reached a real session: refused
 * requests with made-up ids, and 429s, never move it. Small numbers keep the plain rule: fewer than
 * {@code minimum} silent sessions are always believed (5 agents, 3 crash together: all 3 Offline).
 */
public final class HeartbeatOutageBrake {
    private static final Logger LOG = LoggerFactory.getLogger(HeartbeatOutageBrake.class);

    private final OutageLedger ledger;
    private final EventPublisher events;
    private final ReconcilerMetrics metrics;
    private final BackstopConfig.OutageBrake settings;
    private final Duration heartbeat;
    private final Duration silentAfter;
    private final Duration maxHold;
    private HeartbeatOutage state = HeartbeatOutage.NONE;
    /** The earliest heartbeat this container saw since the outage began (a sample's lastSeen after engagedAt). */
    private Instant firstBeatBack;

    /**
     * @param heartbeat  the pages' heartbeat period
     * @param staleAfter the stale limit; a session silent for the stale limit less one heartbeat period (45 s by
     *                   default) has missed its heartbeat and its retry, so an outage shows in the sample before its
     *                   first session is stale
     */
    public HeartbeatOutageBrake(OutageLedger ledger, EventPublisher events, ReconcilerMetrics metrics,
                                BackstopConfig.OutageBrake settings, Duration heartbeat, Duration staleAfter) {
        this.ledger = ledger;
        this.events = events;
        this.metrics = metrics;
        this.settings = settings;
        this.heartbeat = heartbeat;
        this.silentAfter = staleAfter.minus(heartbeat);
        this.maxHold = Duration.ofMinutes(settings.maxHoldMinutes());
    }

    /** A brake that never engages (the stale sweep's own tests). */
    public static HeartbeatOutageBrake off() {
        return new HeartbeatOutageBrake(OutageLedger.NONE, e -> { }, ReconcilerMetrics.NONE,
                BackstopConfig.OutageBrake.OFF, Duration.ZERO, Duration.ZERO);
    }

    /** Reads the record at the start of a sweep (another run may have changed it). */
    HeartbeatOutage begin() {
        state = ledger.read();
        return state;
    }

    boolean engaged() {
        return state.isEngaged();
    }

    /** Whether a sample could matter: an outage is recorded, or {@code open} sessions are enough to engage at all. */
    boolean mayEngage(int open) {
        return state.isEngaged() || open >= settings.minimum();
    }

    /** Until when nothing may be taken for stale after an outage: its recovery plus the stale limit. */
    Optional<Instant> graceUntil(Duration staleAfter) {
        return state.recoveredAt().map(at -> at.plus(staleAfter));
    }

    /**
     * Judges {@code sample}, open sessions just read, out of {@code open}; returns whether this sweep must hold its
     * stale sessions, {@code held} of them in all, instead of closing them.
     */
    boolean hold(Instant now, Collection<Session> sample, int open, int held) {
        long silent = sample.stream().filter(s -> s.lastSeen().isBefore(now.minus(silentAfter))).count();
        state.engagedAt().ifPresent(engagedAt -> sample.stream().map(Session::lastSeen).filter(seen -> seen.isAfter(engagedAt))
                .min(Instant::compareTo).ifPresent(seen -> firstBeatBack = firstBeatBack == null || seen.isBefore(firstBeatBack) ? seen : firstBeatBack));
        double share = sample.isEmpty() ? 0 : (double) silent / sample.size();
        long silentEstimate = Math.round(share * open);
        // Engaged, it stays so until the silent share falls under half the threshold: a sample read near the
        // threshold (200 sessions of many) must not flap the brake, closing a sweep's stale sessions each time.
        double threshold = state.isEngaged() ? settings.share() / 2 : settings.share();
        boolean outage = share > threshold && silentEstimate >= settings.minimum();
        if (outage) {
            if (!state.isEngaged()) {
                firstBeatBack = null;
                if (ledger.engage(now)) {
                    LOG.warn("heartbeat outage suspected: {} of {} sessions read ({} %) missed their heartbeats, about {} of {}"
                            + " open; stale sessions are held, not set Offline, until heartbeats come back", silent,
                            sample.size(), Math.round(share * 100), silentEstimate, open);
                    events.publishRecorded(new BackstopEvent.HeartbeatOutageSuspected(open, share, now));
                }
                state = ledger.read();
            }
            boolean expired = maxHold.isPositive() && state.engagedAt().map(at -> !now.isBefore(at.plus(maxHold))).orElse(false);
            if (expired) {
                LOG.warn("heartbeat outage since {} outlasted the {} min hold: stale sessions are closed as usual",
                        state.engagedAt().orElseThrow(), settings.maxHoldMinutes());
            }
            // Counted after the hold's limit too: the alarm stays on while the outage lasts, even as the stale are closed.
            metrics.sessionsHeld(held);
            metrics.flush(); // on-call's alarm reads this now, not at the end of the run
            return !expired;
        }
        if (state.isEngaged()) {
            Instant engagedAt = state.engagedAt().orElseThrow();
            // Where a silent session's stale limit starts again: the first heartbeat seen since the outage began, but
            // no earlier than a heartbeat period ago (in an outage of part of the centre, the others beat all along).
            Instant firstSeen = firstBeatBack != null ? firstBeatBack : now;
            Instant recoveredAt = firstSeen.isAfter(now.minus(heartbeat)) ? firstSeen : now.minus(heartbeat);
            firstBeatBack = null;
            if (ledger.recover(engagedAt, recoveredAt)) {
                LOG.warn("heartbeat outage since {} ended: heartbeats back from {} ({} of {} sessions read silent);"
                        + " sessions still silent a stale limit after that are closed", engagedAt, recoveredAt, silent, sample.size());
                events.publishRecorded(new BackstopEvent.HeartbeatOutageEnded(engagedAt, recoveredAt, now));
            }
            state = ledger.read();
        }
        return false;
    }
}
