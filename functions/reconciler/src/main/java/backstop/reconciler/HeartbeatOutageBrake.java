package backstop.reconciler;

import backstop.core.config.BackstopConfig;
import backstop.core.events.BackstopEvent;
import backstop.core.events.EventPublisher;
import backstop.core.events.StagedEvent;
import backstop.core.session.HeartbeatOutage;
import backstop.core.session.OutageLedger;
import backstop.core.session.RefusedHeartbeats;
import backstop.core.session.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
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
 * <p>
 * A flood needs no share: API Gateway's route throttle is one bucket for every caller, so a flood of made-up
 * heartbeats makes it answer 429 to some real beats too, and at two to four times the route's limit only a tenth
 * of the sessions may go silent, too few for the share yet each one an agent set Offline for nothing. Two signs
 * show a flood, and either holds every stale session whatever their number (a flood silences 3 of 5 agents as
 * easily as 3,000 of 5,000) for a stale limit after its last sign: the pages' own word (a beat after a 429 says
 * when it was, {@link Session#crowdedAt()}; 2 % of the sample's agents and at least 3), which no pulsed flood or
 * flood of another API can hide from, and which alone stops the hold's limit; and the beacons' counts
 * ({@link RefusedHeartbeats}: a window where the throttle ran dry and half of it was refused), which need no page
 * to land a beat first, and hold for at most the hold's limit (a trickle just under the throttle can move them).
 * When the flood ends, sessions still silent a stale limit after its last sign were silent with the route open to
 * them: they are closed then, within the usual bound of the flood's end.
 */
public final class HeartbeatOutageBrake {
    private static final Logger LOG = LoggerFactory.getLogger(HeartbeatOutageBrake.class);

    private final OutageLedger ledger;
    private final RefusedHeartbeats refused;
    private final EventPublisher events;
    private final ReconcilerMetrics metrics;
    private final BackstopConfig.OutageBrake settings;
    private final Duration heartbeat;
    private final Duration silentAfter;
    private final Duration staleAfter;
    private final Duration maxHold;
    /** How many of a sample's agents must report a recent 429 for the pages' word to mean a flood: 2 %, at least 3. */
    static final double CROWDED_SHARE = 0.02;
    static final int CROWDED_MINIMUM = 3;
    /** The share of the throttle's rate a window's heartbeat requests must reach for the throttle to have run dry. */
    static final double RUN_DRY = 0.95;
    /** Whether this sweep's sample had the pages' word of a flood (then, and only then, the hold's limit stops). */
    private boolean confirmedByPages;
    /** The refused-heartbeat counter's window (a third of the heartbeat period). */
    private final Duration window;
    private HeartbeatOutage state = HeartbeatOutage.NONE;
    /** The start of the last window in which the heartbeat route was flooded, as of this sweep. */
    private Optional<Instant> lastFlooded = Optional.empty();
    /** Whether this sweep falls within a flood or a stale limit after it. */
    private boolean flooded;
    /** The earliest heartbeat this container saw since the outage began (a sample's lastSeen after engagedAt). */
    private Instant firstBeatBack;

    /**
     * @param heartbeat  the pages' heartbeat period
     * @param staleAfter the stale limit; a session silent for the stale limit less one heartbeat period (45 s by
     *                   default) has missed its heartbeat and its retry, so an outage shows in the sample before its
     *                   first session is stale
     */
    public HeartbeatOutageBrake(OutageLedger ledger, RefusedHeartbeats refused, EventPublisher events, ReconcilerMetrics metrics,
                                BackstopConfig.OutageBrake settings, Duration heartbeat, Duration staleAfter) {
        this.ledger = ledger;
        this.refused = refused;
        this.events = events;
        this.metrics = metrics;
        this.settings = settings;
        this.heartbeat = heartbeat;
        this.silentAfter = staleAfter.minus(heartbeat);
        this.staleAfter = staleAfter;
        this.maxHold = Duration.ofMinutes(settings.maxHoldMinutes());
        this.window = RefusedHeartbeats.window(heartbeat);
    }

    /** A brake that never engages (the stale sweep's own tests). */
    public static HeartbeatOutageBrake off() {
        return new HeartbeatOutageBrake(OutageLedger.NONE, RefusedHeartbeats.NONE, e -> { }, ReconcilerMetrics.NONE,
                BackstopConfig.OutageBrake.OFF, Duration.ofSeconds(3), Duration.ZERO);
    }

    /**
     * Reads the record and the flood's footprint at the start of a sweep (another run may have changed them): the
     * latest flood is the later of the one on record and the one the refused-heartbeat counts show now, which is
     * recorded when it is newer (so a new container, or an overlapping run, knows it too).
     */
    HeartbeatOutage begin(Instant now) {
        state = ledger.read();
        Optional<Instant> counted = lastFlood(now);
        if (counted.isPresent() && state.lastFloodAt().map(counted.get()::isAfter).orElse(true)) {
            ledger.floodSeen(counted.get());
            state = ledger.read();
        }
        lastFlooded = latest(state.lastFloodAt(), counted);
        flooded = lastFlooded.map(at -> now.isBefore(at.plus(staleAfter))).orElse(false);
        return state;
    }

    /**
     * The start of the last window, within a stale limit and a few windows, in which the route's throttle ran dry
     * (heartbeat requests at {@link #RUN_DRY} or more of what it lets through in a window) and half or more of what
     * it let through was refused: a flood crowding real beats out. A trickle of made-up ids under the throttle's
     * limit leaves it room for every real beat and is no flood; one just under it may count as one, and holds for
     * at most the hold's limit (the counts alone never suspend it). A read that fails finds none (the share, the
     * pages' own word and the record still hold).
     */
    private Optional<Instant> lastFlood(Instant now) {
        if (settings.heartbeatRouteRate() == 0) {
            return Optional.empty();
        }
        double perWindow = settings.heartbeatRouteRate() * (window.toMillis() / 1000.0);
        try {
            return refused.since(RefusedHeartbeats.windowStart(now.minus(staleAfter).minus(window.multipliedBy(3)), window))
                    .entrySet().stream().filter(e -> e.getValue().refused() >= perWindow / 2 && e.getValue().requests() >= perWindow * RUN_DRY)
                    .map(Map.Entry::getKey).max(Instant::compareTo);
        } catch (RuntimeException e) {
            LOG.warn("refused heartbeats could not be read; the flood signal goes by the record and the pages", e);
            return Optional.empty();
        }
    }

    /**
     * The pages' own word: each agent of the sample whose pages reported a 429 within the stale limit, with its latest, when
     * at least {@link #CROWDED_SHARE} of the sample's agents (and {@link #CROWDED_MINIMUM}) did; none otherwise. A pulsed flood (bursts that
     * drain the throttle for a few seconds at a time) stays under any count the beacons keep of a window, and a
     * flood of another API drains the account's throttle without a refusal here; neither hides from the pages it
     * throttles. Counted by agent: one agent's own sessions, even scripted, count once; the reporting agents are
     * logged, so on-call can tell a flood (429s on the API) from agents who say so falsely.
     */
    private Map<String, Instant> crowdedAgents(Instant now, Collection<Session> sample) {
        Map<String, Instant> crowded = new java.util.HashMap<>(); // by agent: one agent's several sessions count once
        sample.forEach(s -> s.crowdedAt().filter(at -> at.isAfter(now.minus(staleAfter)))
                .ifPresent(at -> crowded.merge(s.agent().userId(), at, (a, b) -> a.isAfter(b) ? a : b)));
        long agents = sample.stream().map(s -> s.agent().userId()).distinct().count();
        return crowded.size() < Math.max(CROWDED_MINIMUM, Math.ceil(CROWDED_SHARE * agents)) ? Map.of() : crowded;
    }

    private static Optional<Instant> latest(Optional<Instant> one, Optional<Instant> other) {
        if (one.isEmpty()) {
            return other;
        }
        return other.filter(one.get()::isBefore).or(() -> one);
    }

    boolean engaged() {
        return state.isEngaged();
    }

    /** Whether this brake may hold at all ({@link #off()}: never, and it reads no sample). */
    boolean enabled() {
        return settings != BackstopConfig.OutageBrake.OFF;
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
        Map<String, Instant> reporting = crowdedAgents(now, sample);
        Optional<Instant> crowded = reporting.values().stream().max(Instant::compareTo);
        confirmedByPages = crowded.isPresent();
        if (crowded.isPresent() && lastFlooded.map(crowded.get()::isAfter).orElse(true)) {
            ledger.floodSeen(crowded.get());
            lastFlooded = crowded;
            flooded = now.isBefore(crowded.get().plus(staleAfter));
        }
        if (confirmedByPages && !state.isEngaged()) {
            LOG.warn("pages of {} agents report 429s on their heartbeats (the latest at {}): {}", reporting.size(),
                    crowded.get(), reporting.keySet().stream().limit(20).toList());
        }
        long silent = sample.stream().filter(s -> s.lastSeen().isBefore(now.minus(silentAfter))).count();
        state.engagedAt().ifPresent(engagedAt -> sample.stream().map(Session::lastSeen).filter(seen -> seen.isAfter(engagedAt))
                .min(Instant::compareTo).ifPresent(seen -> firstBeatBack = firstBeatBack == null || seen.isBefore(firstBeatBack) ? seen : firstBeatBack));
        double share = sample.isEmpty() ? 0 : (double) silent / sample.size();
        long silentEstimate = Math.round(share * open);
        // Engaged, it stays so until the silent share falls under half the threshold: a sample read near the
        // threshold (200 sessions of many) must not flap the brake, closing a sweep's stale sessions each time.
        double threshold = state.isEngaged() ? settings.share() / 2 : settings.share();
        boolean silence = share > threshold && silentEstimate >= settings.minimum();
        if (silence || flooded) {
            if (!state.isEngaged()) {
                firstBeatBack = null;
                // Staged first: its outbox row is written with the ledger's start, so a run stopped before the
                // publish leaves it for the relay (one eventId per outage either way).
                StagedEvent suspected = events.stage(new BackstopEvent.HeartbeatOutageSuspected(open, share,
                        flooded ? "flood" : "silence", now));
                if (ledger.engage(now, flooded, suspected.row())) {
                    if (!flooded) {
                        LOG.warn("heartbeat outage suspected: {} of {} sessions read ({} %) missed their heartbeats, about {} of {}"
                                + " open; stale sessions are held, not set Offline, until heartbeats come back", silent,
                                sample.size(), Math.round(share * 100), silentEstimate, open);
                    } else {
                        LOG.warn("heartbeat outage suspected: the heartbeat route is flooded (throttled pages, or refused"
                                + " heartbeats at half its throttle or more, until {}); {} stale sessions are held, not set Offline,"
                                + " until a stale limit after the flood", lastFlooded.orElseThrow(), held);
                    }
                    events.publishStagedRecorded(suspected);
                }
                state = ledger.read();
            } else if (silence && !flooded && state.floodOnly()) {
                ledger.silenceSeen(state.engagedAt().orElseThrow()); // silence the flood does not explain: released as any outage
                state = ledger.read();
            }
            // The hold's limit counts from the outage's start, or the pages' last word of a flood: it never runs while
            // the pages say they are throttled. The beacons' counts alone (which a trickle just under the throttle
            // can move) hold for at most the limit.
            Instant holdFrom = confirmedByPages ? now : state.engagedAt().orElse(now);
            boolean expired = !confirmedByPages && maxHold.isPositive() && !now.isBefore(holdFrom.plus(maxHold));
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
            // Held for a flood alone: every page has had a stale limit since the flood's last sign to beat again.
            if (state.floodOnly() && lastFlooded.isPresent()) {
                recoveredAt = lastFlooded.get();
            }
            recoveredAt = later(recoveredAt, lastFlooded.filter(end -> end.isBefore(now)));
            firstBeatBack = null;
            StagedEvent ended = events.stage(new BackstopEvent.HeartbeatOutageEnded(engagedAt, recoveredAt, now));
            if (ledger.recover(engagedAt, recoveredAt, ended.row())) {
                LOG.warn("heartbeat outage since {} ended: heartbeats back from {} ({} of {} sessions read silent);"
                        + " sessions still silent a stale limit after that are closed", engagedAt, recoveredAt, silent, sample.size());
                events.publishStagedRecorded(ended);
            }
            state = ledger.read();
        }
        return false;
    }

    private static Instant later(Instant instant, Optional<Instant> other) {
        return other.filter(instant::isBefore).orElse(instant);
    }
}
