package backstop.reconciler;

import backstop.core.config.BackstopConfig;
import backstop.core.events.BackstopEvent;
import backstop.core.session.CloseResult;
import backstop.core.session.Exemption;
import backstop.core.session.HeartbeatOutage;
import backstop.core.session.OutageLedger;
import backstop.core.session.RefusedHeartbeats;
import backstop.core.session.Session;
import backstop.core.session.SessionId;
import backstop.core.transition.OfflineOutcome;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The brake on mass staleness, on a moved clock with the deployed defaults (heartbeats every 30 s, stale after
 * 75 s, a sweep every 15 s; brake at more than 30 % silent and at least 5, a hold of at most 30 minutes): pages
 * beat on their own schedules, the heartbeat path fails for everyone, pages are killed, beats come back.
 */
class HeartbeatOutageBrakeTest {
    static final Instant T0 = StaleSessionSweepTest.NOW;
    static final Duration HEARTBEAT = Duration.ofSeconds(30);
    static final Duration STALE_AFTER = StaleSessionSweepTest.STALE_AFTER;
    static final Duration SWEEP = Duration.ofSeconds(15);

    /** The ledger as the table keeps it: one record, conditional writes. */
    static final class MemoryLedger implements OutageLedger {
        HeartbeatOutage record = HeartbeatOutage.NONE;

        @Override public synchronized HeartbeatOutage read() { return record; }

        @Override public synchronized boolean engage(Instant at, boolean forFlood) {
            if (record.isEngaged()) {
                return false;
            }
            record = new HeartbeatOutage(Optional.of(at), Optional.empty(), record.lastFloodAt(), forFlood);
            return true;
        }

        @Override public synchronized boolean recover(Instant engagedAt, Instant recoveredAt) {
            if (!record.engagedAt().equals(Optional.of(engagedAt))) {
                return false;
            }
            record = new HeartbeatOutage(Optional.empty(), Optional.of(recoveredAt), record.lastFloodAt(), false);
            return true;
        }

        @Override public synchronized void floodSeen(Instant at) {
            if (record.lastFloodAt().map(at::isAfter).orElse(true)) {
                record = new HeartbeatOutage(record.engagedAt(), record.recoveredAt(), Optional.of(at), record.floodOnly());
            }
        }

        @Override public synchronized void silenceSeen(Instant engagedAt) {
            if (record.engagedAt().equals(Optional.of(engagedAt))) {
                record = new HeartbeatOutage(record.engagedAt(), record.recoveredAt(), record.lastFloodAt(), false);
            }
        }
    }

    /** A contact centre: pages that beat every 30 s at their own offsets, the reconciler's sweep every 15 s. */
    static final class Centre {
        final StaleSessionSweepTest.StaleStore store = new StaleSessionSweepTest.StaleStore();
        final MemoryLedger ledger;
        final List<BackstopEvent> events = new CopyOnWriteArrayList<>();
        final List<Integer> held = new CopyOnWriteArrayList<>();
        StaleSessionSweep sweep;
        final Map<String, Integer> offsets = new HashMap<>();
        final Set<String> killed = new HashSet<>();
        final Map<String, Instant> closedAt = new HashMap<>();
        Instant outageFrom = Instant.MAX;
        Instant outageUntil = Instant.MAX;
        /** The refused heartbeats the beacons count, a window at a time (RefusalMeter). */
        final RefusedHeartbeats.InMemory refused = new RefusedHeartbeats.InMemory();
        /**
         * A flood of made-up heartbeats at {@code floodTimes} the route's throttle (200/s), from {@code floodFrom}
         * until {@code floodUntil}: the throttle lets 200 requests a second through, the flood's share of them is
         * refused by the beacon, and a real beat gets through with the same chance as a flood request.
         */
        Instant floodFrom = Instant.MAX;
        Instant floodUntil = Instant.MAX;
        double floodTimes;
        final java.util.Random chance = new java.util.Random(7);
        final Map<String, Instant> retries = new HashMap<>();
        /** When each page last got a 429 and has not landed a beat since: its next beat says so (crowdedMsAgo). */
        final Map<String, Instant> throttledAt = new HashMap<>();
        /** Whether the beacons' refusal counts reach the brake (false: only the pages' word does). */
        boolean beaconsCount = true;
        /** Whether a page's beat says it was throttled (false: the client before this release). */
        boolean pagesTell = true;
        /** A pulsed flood: on for {@code pulseOn} seconds of every 10 (0: steady). */
        int pulseOn;
        long refusedInWindow;
        long requestsInWindow;
        final BackstopConfig.OutageBrake settings;

        Centre(int agents, MemoryLedger ledger) {
            this(agents, ledger, BackstopConfig.OutageBrake.DEFAULT);
        }

        Centre(int agents, MemoryLedger ledger, BackstopConfig.OutageBrake settings) {
            this.ledger = ledger;
            this.settings = settings;
            this.sweep = sweep(ledger);
            for (int i = 0; i < agents; i++) {
                String user = "agent-" + i;
                offsets.put(user, i % 30);
                Session session = StaleSessionSweepTest.created(user, Exemption.NOT_EXEMPT, T0.minusSeconds(60), T0);
                store.add(session);
                store.answers.put(user, new CloseResult.Closed(OfflineOutcome.PENDING, Optional.empty()));
            }
        }

        StaleSessionSweep sweep(OutageLedger sharedLedger) {
            ReconcilerMetrics metrics = new RecordingHeld(held);
            return new StaleSessionSweep(store, STALE_AFTER, new HeartbeatOutageBrake(sharedLedger, refused, events::addAll, metrics,
                    settings, HEARTBEAT, STALE_AFTER));
        }

        /** Runs the centre second by second until {@code until}; returns the time it reached. */
        void runUntil(Instant until) {
            for (Instant now = clock; !now.isAfter(until); now = now.plusSeconds(1)) {
                long second = Duration.between(T0, now).toSeconds();
                boolean pathDown = !now.isBefore(outageFrom) && now.isBefore(outageUntil);
                boolean flooded = !now.isBefore(floodFrom) && now.isBefore(floodUntil)
                        && (pulseOn == 0 || Math.floorMod(second, 10) < pulseOn);
                double through = flooded ? Math.min(1, 1 / floodTimes) : 1; // a request's chance past the throttle
                if (second % 10 == 0 && refusedInWindow > 0) { // a window ended: the beacons add its counts
                    if (beaconsCount) {
                        refused.add(RefusedHeartbeats.windowStart(now.minusSeconds(1), RefusedHeartbeats.window(HEARTBEAT)),
                                new RefusedHeartbeats.Window(refusedInWindow, requestsInWindow));
                    }
                    refusedInWindow = 0;
                    requestsInWindow = 0;
                }
                requestsInWindow += offsets.size() / 30; // the real beats of a second, about
                if (flooded) {
                    // What got through: the throttle's 200 a second, nearly all the flood's (a trickle: all of it).
                    long flood = Math.round(200 * Math.min(1, floodTimes));
                    refusedInWindow += flood;
                    requestsInWindow += flood;
                }
                for (Map.Entry<String, Integer> page : offsets.entrySet()) {
                    String user = page.getKey();
                    boolean due = (second - page.getValue()) % 30 == 0 || now.equals(retries.get(user));
                    if (!pathDown && !killed.contains(user) && due) {
                        if (chance.nextDouble() < through) {
                            Optional<Instant> lastThrottled = Optional.ofNullable(throttledAt.remove(user));
                            beat(user, now, pagesTell ? lastThrottled : Optional.empty());
                        } else {
                            throttledAt.put(user, now); // a 429
                            if (!now.equals(retries.get(user))) {
                                retries.put(user, now.plusSeconds(10)); // the page tries a failed beat once more, 8-12 s later
                            }
                        }
                    }
                }
                if (second % SWEEP.toSeconds() == 0) {
                    int before = store.closes.size();
                    sweep.sweep(now);
                    for (int i = before; i < store.closes.size(); i++) {
                        closedAt.putIfAbsent(userOf(store.closes.get(i).sessionId()), now);
                    }
                }
                clock = now.plusSeconds(1);
            }
        }

        Instant clock = T0;

        void beat(String user, Instant at) {
            beat(user, at, Optional.empty());
        }

        /** A beat that lands; {@code crowdedAt}: the page's last 429 since its previous beat landed, if any. */
        void beat(String user, Instant at, Optional<Instant> crowdedAt) {
            Session s = store.open.values().stream().filter(x -> x.agent().userId().equals(user)).findFirst().orElseThrow();
            if (s.isOpen()) {
                store.open.put(s.id(), new Session(s.id(), s.agent(), s.tokenHash(), s.created(), at, s.state(), s.closedAt(),
                        Optional.empty(), Optional.empty(), Optional.empty(), s.heartbeats() + 1, s.exemption(),
                        crowdedAt.or(s::crowdedAt)));
            }
        }

        String userOf(SessionId id) {
            return store.open.get(id).agent().userId();
        }

        List<String> eventTypes() {
            return events.stream().map(BackstopEvent::detailType).toList();
        }
    }

    /** The reconciler's metrics, of which the brake writes one. */
    static final class RecordingHeld implements ReconcilerMetrics {
        final List<Integer> held;

        RecordingHeld(List<Integer> held) {
            this.held = held;
        }

        @Override public void sessionsHeld(int count) { held.add(count); }
        @Override public void staleSessionsClosed(int count) { }
        @Override public void pendingBacklog(long count) { }
        @Override public void sweepSkippedIndexBackfilling() { }
        @Override public void transitionDone(boolean deferred) { }
        @Override public void transitionNotNeeded() { }
        @Override public void transitionFailed() { }
        @Override public void transitionRetryScheduled() { }
        @Override public void connectThrottled() { }
        @Override public void flush() { }
    }

    @Test
    void anOutageForEveryone_should_setNobodyOffline_tellWithinAMinute_andCloseOnlyThePagesKilledMeanwhile_afterRecovery() {
        Centre centre = new Centre(50, new MemoryLedger());
        centre.runUntil(T0.plusSeconds(120)); // a normal morning
        Instant outage = T0.plusSeconds(120);
        Instant recovery = outage.plus(Duration.ofMinutes(3));
        centre.outageFrom = outage;
        centre.outageUntil = recovery;
        centre.killed.addAll(List.of("agent-3", "agent-17", "agent-29")); // their pages die during the outage

        centre.runUntil(recovery.minusSeconds(1));
        assertThat(centre.closedAt).as("Offline during the 3-minute outage").isEmpty();
        assertThat(centre.events).first().isInstanceOfSatisfying(BackstopEvent.HeartbeatOutageSuspected.class, suspected -> {
            assertThat(suspected.at()).as("told within a minute").isBeforeOrEqualTo(outage.plusSeconds(60));
            assertThat(suspected.openSessions()).isEqualTo(50);
        });
        assertThat(centre.held).as("the held sessions, counted for the alarm").contains(50);

        centre.runUntil(recovery.plus(Duration.ofMinutes(5)));
        assertThat(centre.closedAt).as("only the killed pages").containsOnlyKeys("agent-3", "agent-17", "agent-29");
        assertThat(centre.closedAt.values()).as("Offline within 90 s of the recovery, not before a stale limit since it")
                .allSatisfy(at -> assertThat(at).isAfterOrEqualTo(recovery.plus(STALE_AFTER)).isBeforeOrEqualTo(recovery.plusSeconds(90)));
        assertThat(centre.eventTypes()).containsExactly("Heartbeat Outage Suspected", "Heartbeat Outage Ended");
        BackstopEvent.HeartbeatOutageEnded ended = (BackstopEvent.HeartbeatOutageEnded) centre.events.get(1);
        assertThat(ended.recoveredAt()).as("the first heartbeat after the outage").isEqualTo(recovery);
        assertThat(centre.ledger.record).isEqualTo(HeartbeatOutage.recovered(recovery));
    }

    @Test
    void oneCrashAmongFifty_should_beOfflineWithin90s_asBefore() {
        Centre centre = new Centre(50, new MemoryLedger());
        centre.runUntil(T0.plusSeconds(100));
        centre.killed.add("agent-7");
        Instant lastBeat = T0.plusSeconds(90 + 7); // agent-7 beats at offset 7: its last beat before the crash

        centre.runUntil(T0.plusSeconds(400));
        assertThat(centre.closedAt).containsOnlyKeys("agent-7");
        assertThat(centre.closedAt.get("agent-7")).isAfterOrEqualTo(lastBeat.plus(STALE_AFTER)).isBeforeOrEqualTo(lastBeat.plusSeconds(90));
        assertThat(centre.events).as("no outage suspected").isEmpty();
    }

    @Test
    void aSmallCentre_should_believeFewerSilentSessionsThanTheMinimum_andHoldWhenAllOfThemGoSilent() {
        Centre three = new Centre(5, new MemoryLedger());
        three.runUntil(T0.plusSeconds(60));
        three.killed.addAll(List.of("agent-0", "agent-1", "agent-2")); // 3 of 5 crash together: under the minimum of 5
        three.runUntil(T0.plusSeconds(300));
        assertThat(three.closedAt).containsOnlyKeys("agent-0", "agent-1", "agent-2");
        assertThat(three.events).isEmpty();

        Centre all = new Centre(5, new MemoryLedger());
        all.runUntil(T0.plusSeconds(60));
        all.outageFrom = T0.plusSeconds(61); // the site's network drops: all 5 silent, the minimum reached
        all.runUntil(T0.plusSeconds(400));
        assertThat(all.closedAt).isEmpty();
        assertThat(all.eventTypes()).containsExactly("Heartbeat Outage Suspected");
    }

    @Test
    void aHold_should_lastAtMostItsLimit_thenTheStaleSessionsAreClosed() {
        Centre centre = new Centre(20, new MemoryLedger());
        centre.runUntil(T0.plusSeconds(30));
        centre.outageFrom = T0.plusSeconds(31); // never comes back (everyone shut their laptop at once, say)
        centre.runUntil(T0.plus(Duration.ofMinutes(30)));
        assertThat(centre.closedAt).as("held for 30 minutes").isEmpty();
        Instant engaged = centre.ledger.record.engagedAt().orElseThrow();

        centre.runUntil(T0.plus(Duration.ofMinutes(33)));
        assertThat(centre.closedAt).hasSize(20);
        assertThat(centre.closedAt.values()).allSatisfy(at -> assertThat(at)
                .isAfterOrEqualTo(engaged.plus(Duration.ofMinutes(30))).isBefore(engaged.plus(Duration.ofMinutes(30)).plus(SWEEP.multipliedBy(2))));
        assertThat(centre.eventTypes()).as("ended once nobody is silent any more: here because the silent were closed")
                .containsExactly("Heartbeat Outage Suspected", "Heartbeat Outage Ended");
    }

    @Test
    void anotherContainer_should_holdToo_whileTheLedgerSaysAnOutageIsOn() {
        MemoryLedger ledger = new MemoryLedger();
        Centre centre = new Centre(30, ledger);
        centre.runUntil(T0.plusSeconds(30));
        centre.outageFrom = T0.plusSeconds(31);
        centre.runUntil(T0.plusSeconds(150));
        assertThat(ledger.record.isEngaged()).isTrue();

        StaleSessionSweep coldStart = centre.sweep(ledger); // a new container: knows no session yet
        int closed = coldStart.sweep(T0.plusSeconds(165));
        assertThat(closed).isZero();
        assertThat(centre.store.closes).isEmpty();
        assertThat(centre.eventTypes()).as("one outage, told once").containsExactly("Heartbeat Outage Suspected");
    }

    @Test
    void heldSessions_should_notBeReadAgainEverySweep_onlyTheSample() {
        Centre centre = new Centre(400, new MemoryLedger());
        centre.runUntil(T0.plusSeconds(30));
        centre.outageFrom = T0.plusSeconds(31);
        centre.runUntil(T0.plusSeconds(180)); // engaged, all 400 held
        assertThat(centre.ledger.record.isEngaged()).isTrue();
        List<String> before = new ArrayList<>(centre.store.read);

        centre.runUntil(T0.plusSeconds(240)); // four more sweeps
        assertThat(centre.store.read.size() - before.size()).as("four samples of 200, not 4 x 400 reads")
                .isLessThanOrEqualTo(4 * StaleSessionSweep.SAMPLE);
        assertThat(centre.closedAt).isEmpty();
    }

    @Test
    void anEngagedBrake_should_releaseOnlyUnderHalfItsThreshold_notFlapAroundIt() {
        MemoryLedger ledger = new MemoryLedger();
        List<BackstopEvent> events = new ArrayList<>();
        HeartbeatOutageBrake brake = new HeartbeatOutageBrake(ledger, RefusedHeartbeats.NONE, events::addAll, new RecordingHeld(new ArrayList<>()),
                BackstopConfig.OutageBrake.DEFAULT, HEARTBEAT, STALE_AFTER);
        Instant now = T0.plusSeconds(600);
        brake.begin(now);
        assertThat(brake.hold(now, sample(now, 100, 50), 100, 10)).as("50 % silent: engaged").isTrue();
        brake.begin(now.plusSeconds(15));
        assertThat(brake.hold(now.plusSeconds(15), sample(now.plusSeconds(15), 100, 25), 100, 10))
                .as("25 %: under the threshold but over half of it, still held").isTrue();
        brake.begin(now.plusSeconds(30));
        assertThat(brake.hold(now.plusSeconds(30), sample(now.plusSeconds(30), 100, 14), 100, 10))
                .as("14 %: under half the threshold, released").isFalse();
        assertThat(events).extracting(BackstopEvent::detailType).containsExactly("Heartbeat Outage Suspected", "Heartbeat Outage Ended");
    }

    /** {@code size} open sessions read at {@code now}, {@code silent} of them last seen a minute ago. */
    static List<Session> sample(Instant now, int size, int silent) {
        List<Session> sample = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            sample.add(StaleSessionSweepTest.created("s-" + i, Exemption.NOT_EXEMPT, T0, i < silent ? now.minusSeconds(60) : now.minusSeconds(5)));
        }
        return sample;
    }

    /**
     * A flood at three times the route's throttle: a real beat gets through one time in three, so a tenth of the
     * pages or so miss their beat and its retry twice in a row, too few for the share (30 %), each one an agent
     * set Offline for nothing without the flood signal. With it: nobody Offline while it lasts, however long (here
     * past the hold's 30 minutes), the pages killed during it Offline within 90 s of its end.
     */
    @Test
    void aFloodAtThreeTimesTheThrottle_should_setNobodyOffline_evenPastTheHoldsLimit_andCloseOnlyThePagesKilledMeanwhile_afterIt() {
        Centre centre = new Centre(200, new MemoryLedger());
        centre.runUntil(T0.plusSeconds(120));
        Instant flood = T0.plusSeconds(120);
        Instant end = flood.plus(Duration.ofMinutes(45));
        centre.floodFrom = flood;
        centre.floodUntil = end;
        centre.floodTimes = 3;
        centre.killed.addAll(List.of("agent-3", "agent-17", "agent-29"));

        centre.runUntil(end.minusSeconds(1));
        assertThat(centre.closedAt).as("Offline during a 45-minute flood").isEmpty();
        assertThat(centre.events).first().isInstanceOfSatisfying(BackstopEvent.HeartbeatOutageSuspected.class,
                suspected -> assertThat(suspected.cause()).isEqualTo("flood"));
        assertThat(centre.held).as("held, counted for the alarm").isNotEmpty();

        centre.runUntil(end.plus(Duration.ofMinutes(5)));
        assertThat(centre.closedAt).as("only the killed pages").containsOnlyKeys("agent-3", "agent-17", "agent-29");
        assertThat(centre.closedAt.values()).as("Offline within 90 s of the flood's end, and not before a page had time to beat again")
                .allSatisfy(at -> assertThat(at).isAfterOrEqualTo(end.plus(HEARTBEAT)).isBeforeOrEqualTo(end.plusSeconds(90)));
        assertThat(centre.eventTypes()).containsExactly("Heartbeat Outage Suspected", "Heartbeat Outage Ended");
    }

    /** The same flood without either flood signal (no route rate, pages that do not tell): the share alone lets agents go Offline. */
    @Test
    void withoutTheFloodSignal_aFloodAtThreeTimesTheThrottle_should_setSomeAgentsOffline_whichIsWhyTheSignalExists() {
        Centre centre = new Centre(200, new MemoryLedger(), new BackstopConfig.OutageBrake(0.3, 5, 30, 0));
        centre.pagesTell = false;
        centre.runUntil(T0.plusSeconds(120));
        centre.floodFrom = T0.plusSeconds(120);
        centre.floodUntil = T0.plusSeconds(120 + 600);
        centre.floodTimes = 3;
        centre.runUntil(T0.plusSeconds(720));
        System.out.printf("Flood at 3x the route throttle for 10 min, no flood signal: %d of 200 live agents set Offline, outage %s%n",
                centre.closedAt.size(), centre.eventTypes());
        assertThat(centre.closedAt.size()).as("live agents closed as stale by a flood the share does not see").isGreaterThan(5);
    }

    /** A trickle of made-up ids under half the throttle crowds out nobody: it holds nothing, a crash is Offline as usual. */
    @Test
    void aTrickleUnderHalfTheThrottle_should_holdNothing() {
        Centre centre = new Centre(50, new MemoryLedger());
        centre.runUntil(T0.plusSeconds(100));
        centre.floodFrom = T0.plusSeconds(100);
        centre.floodTimes = 0.4; // 80 made-up ids a second against 200: all of them get through, and are refused
        centre.killed.add("agent-7");
        Instant lastBeat = T0.plusSeconds(90 + 7);
        centre.runUntil(T0.plusSeconds(400));
        assertThat(centre.closedAt).containsOnlyKeys("agent-7");
        assertThat(centre.closedAt.get("agent-7")).isBeforeOrEqualTo(lastBeat.plusSeconds(90));
        assertThat(centre.events).isEmpty();
    }

    /** Five agents flooded: a flood silences 3 of 5 as easily as 3,000 of 5,000, so the minimum does not apply to it. */
    @Test
    void aSmallCentre_should_holdUnderTheMinimum_whenTheRouteIsFlooded() {
        Centre centre = new Centre(5, new MemoryLedger());
        centre.runUntil(T0.plusSeconds(60));
        centre.floodFrom = T0.plusSeconds(61);
        centre.floodUntil = T0.plusSeconds(61 + 600);
        centre.floodTimes = 10;
        centre.killed.addAll(List.of("agent-0", "agent-1", "agent-2"));
        centre.runUntil(T0.plusSeconds(61 + 599));
        assertThat(centre.closedAt).isEmpty();
        centre.runUntil(T0.plusSeconds(61 + 600 + 120));
        assertThat(centre.closedAt).containsOnlyKeys("agent-0", "agent-1", "agent-2");
    }

    /**
     * A pulsed flood: 2.5 s of every 10 at twelve times the throttle, which drains it then and leaves every window's
     * refusal count under half of it (the beacons' counts alone never see it), while a fifth of the real beats get
     * 429 again and again. The pages' own word holds the brake: nobody Offline; the killed pages after it.
     */
    @Test
    void aPulsedFlood_should_setNobodyOffline_byThePagesOwnWord_whereTheBeaconsCountsSeeNothing() {
        Centre centre = new Centre(1000, new MemoryLedger());
        centre.beaconsCount = false; // as if every window stayed under the count's threshold
        centre.runUntil(T0.plusSeconds(120));
        Instant flood = T0.plusSeconds(120);
        Instant end = flood.plus(Duration.ofMinutes(10));
        centre.floodFrom = flood;
        centre.floodUntil = end;
        centre.floodTimes = 12;
        centre.pulseOn = 3;
        centre.killed.addAll(List.of("agent-3", "agent-17", "agent-29"));

        centre.runUntil(end.minusSeconds(1));
        assertThat(centre.closedAt).as("Offline during a 10-minute pulsed flood").isEmpty();
        assertThat(centre.events).first().isInstanceOfSatisfying(BackstopEvent.HeartbeatOutageSuspected.class,
                suspected -> assertThat(suspected.cause()).isEqualTo("flood"));
        centre.runUntil(end.plus(Duration.ofMinutes(5)));
        assertThat(centre.closedAt).as("only the killed pages").containsOnlyKeys("agent-3", "agent-17", "agent-29");
        assertThat(centre.closedAt.values()).as("Offline within 90 s of the flood's end")
                .allSatisfy(at -> assertThat(at).isBeforeOrEqualTo(end.plusSeconds(90)));
    }

    /** The same pulsed flood with neither signal: the share alone lets agents go Offline. */
    @Test
    void aPulsedFlood_withoutThePagesWord_should_setAgentsOffline_whichIsWhyThePagesTell() {
        Centre centre = new Centre(1000, new MemoryLedger(), new BackstopConfig.OutageBrake(0.3, 5, 30, 0));
        centre.beaconsCount = false;
        centre.runUntil(T0.plusSeconds(120));
        centre.floodFrom = T0.plusSeconds(120);
        centre.floodUntil = T0.plusSeconds(720);
        centre.floodTimes = 12;
        centre.pulseOn = 3;
        centre.pagesTell = false; // pages that never say they were throttled (the client before this release)
        centre.runUntil(T0.plusSeconds(720));
        System.out.printf("Pulsed flood (3 s in 10 at 12x the throttle) for 10 min, share alone: %d of 1000 live agents set Offline%n",
                centre.closedAt.size());
        assertThat(centre.closedAt.size()).isGreaterThan(0);
    }

    /** A new container (or an overlapping run) knows the flood from the record: its hold and release are the same. */
    @Test
    void aNewContainer_should_knowTheFloodFromTheRecord_andReleaseAsTheFirstWould() {
        MemoryLedger ledger = new MemoryLedger();
        Centre centre = new Centre(200, ledger);
        centre.runUntil(T0.plusSeconds(120));
        Instant end = T0.plusSeconds(120 + 600);
        centre.floodFrom = T0.plusSeconds(120);
        centre.floodUntil = end;
        centre.floodTimes = 3;
        centre.killed.add("agent-5");
        centre.runUntil(end.minusSeconds(1));
        assertThat(ledger.record.lastFloodAt()).as("the flood's latest sign, on record").isPresent();
        assertThat(ledger.record.floodOnly()).isTrue();

        centre.sweep = centre.sweep(ledger); // the first container is gone: a new one knows nothing but the record
        centre.runUntil(end.plus(Duration.ofMinutes(5)));
        assertThat(centre.closedAt).as("only the killed page").containsOnlyKeys("agent-5");
        assertThat(centre.closedAt.get("agent-5")).as("closed by the new container within 90 s of the flood's end")
                .isBeforeOrEqualTo(end.plusSeconds(90));
    }

    /** A trickle at three quarters of the throttle, 1,000 agents beating beside it: the throttle never runs dry. */
    @Test
    void aTrickleAtThreeQuartersOfTheThrottle_should_holdNothing_forTheThrottleNeverRanDry() {
        Centre centre = new Centre(1000, new MemoryLedger());
        centre.runUntil(T0.plusSeconds(100));
        centre.floodFrom = T0.plusSeconds(100);
        centre.floodTimes = 0.75; // 150 made-up ids a second and 33 real beats: 183 of the 200 the throttle allows
        centre.killed.add("agent-7");
        centre.runUntil(T0.plusSeconds(400));
        assertThat(centre.closedAt).containsOnlyKeys("agent-7");
        assertThat(centre.events).isEmpty();
    }

    /** One agent's four sessions all saying "throttled" are one agent: no flood. Three agents are. */
    @Test
    void thePagesWord_should_countAgents_notSessions() {
        MemoryLedger ledger = new MemoryLedger();
        List<BackstopEvent> events = new ArrayList<>();
        HeartbeatOutageBrake brake = new HeartbeatOutageBrake(ledger, RefusedHeartbeats.NONE, events::addAll,
                new RecordingHeld(new ArrayList<>()), BackstopConfig.OutageBrake.DEFAULT, HEARTBEAT, STALE_AFTER);
        Instant now = T0.plusSeconds(600);
        List<Session> sample = new ArrayList<>(sample(now, 100, 1));
        for (int i = 0; i < 4; i++) { // one agent, four scripted sessions
            sample.set(10 + i, crowded(StaleSessionSweepTest.created("mallory", Exemption.NOT_EXEMPT, T0, now.minusSeconds(5)), now.minusSeconds(3)));
        }
        brake.begin(now);
        assertThat(brake.hold(now, sample, 100, 1)).as("one agent").isFalse();

        for (int i = 0; i < 3; i++) {
            sample.set(20 + i, crowded(StaleSessionSweepTest.created("agent-" + i, Exemption.NOT_EXEMPT, T0, now.minusSeconds(5)), now.minusSeconds(3)));
        }
        brake.begin(now.plusSeconds(15));
        assertThat(brake.hold(now.plusSeconds(15), sample, 100, 1)).as("four agents").isTrue();
        assertThat(events).singleElement().isInstanceOfSatisfying(BackstopEvent.HeartbeatOutageSuspected.class,
                e -> assertThat(e.cause()).isEqualTo("flood"));
    }

    static Session crowded(Session s, Instant at) {
        return new Session(s.id(), s.agent(), s.tokenHash(), s.created(), s.lastSeen(), s.state(), s.closedAt(), s.closeReason(),
                s.status(), s.closeOutcome(), s.heartbeats(), s.exemption(), Optional.of(at));
    }
}
