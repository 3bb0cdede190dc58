package backstop.reconciler;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;
import backstop.core.agent.InstanceRef;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.events.BatchingEventPublisher;
import backstop.core.session.AgentRecord;
import backstop.core.session.CloseRequest;
import backstop.core.session.CloseResult;
import backstop.core.session.Exemption;
import backstop.core.session.Heartbeat;
import backstop.core.session.HeartbeatResult;
import backstop.core.session.NewSession;
import backstop.core.session.Session;
import backstop.core.session.SessionId;
import backstop.core.session.SessionState;
import backstop.core.session.SessionStore;
import backstop.core.session.SessionToken;
import backstop.core.session.TableLayout;
import backstop.core.transition.Backoff;
import backstop.core.transition.OfflineTransitions;
import backstop.core.transition.Transition;
import backstop.core.transition.TransitionQueue;
import backstop.core.transition.TransitionState;
import com.amazonaws.services.lambda.runtime.tests.annotations.Event;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The invocation loop on a hand-moved clock: sweep cadence, the time budget, and the schedule event. */
class ReconcilerLoopTest {
    static final Instant START = Instant.parse("2026-11-25T09:00:00Z");

    static final class StepClock extends Clock {
        Instant now = START;
        @Override public ZoneId getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    }

    /** Records when the stale sweep listed the open sessions; nothing is ever open or due. */
    static final class EmptyStore implements SessionStore, TransitionQueue {
        final StepClock clock;
        final List<Instant> staleQueries = new ArrayList<>();
        /** Sessions open in shard 0, always freshly seen (never stale). */
        final List<SessionId> open = new ArrayList<>();
        /** When a transition falls due (never worked: claims fail); null = none pending. */
        Instant pendingDueAt;
        EmptyStore(StepClock clock) { this.clock = clock; }
        @Override public boolean createSession(NewSession session) { return false; }
        @Override public Optional<Session> findSession(SessionId id) { return Optional.empty(); }
        @Override public Optional<AgentRecord> findAgent(AgentRef agent) { return Optional.empty(); }
        @Override public Map<AgentRef, AgentRecord> findAgents(Collection<AgentRef> agents) { return Map.of(); }
        /** How long each stale sweep's listing takes on the clock. */
        Duration listingTakes = Duration.ZERO;
        @Override public List<SessionId> openSessionsInShard(int shard, Optional<Instant> createdAfter) {
            if (shard == 0) { staleQueries.add(clock.now); clock.now = clock.now.plus(listingTakes); }
            return open.stream().filter(id -> TableLayout.shard(id) == shard).toList();
        }
        @Override public List<Session> readSessions(Collection<SessionId> ids) {
            return ids.stream().map(id -> new Session(id, new AgentRef(new InstanceRef("aws", "us-east-1", "123456789012", "i"), "u"),
                    new byte[32], START, clock.now, SessionState.OPEN, Optional.empty(), Optional.empty(), Optional.empty(),
                    Optional.empty(), 0, Exemption.UNKNOWN)).toList();
        }
        /** The chunk sizes the due sweep asked for. */
        final List<Integer> dueLimits = new ArrayList<>();
        /** When the due sweep looked at the due index (its first shard). */
        final List<Instant> dueLooks = new ArrayList<>();
        @Override public List<Transition> findDueTransitions(int shard, Instant now, int limit) {
            dueLimits.add(limit);
            if (shard == 0) { dueLooks.add(clock.now); }
            return List.of();
        }
        @Override public long countDueTransitions(Instant now) { return pendingDueAt != null && !pendingDueAt.isAfter(now) ? 1 : 0; }
        @Override public Optional<Transition> claim(SessionId id, String claim, Instant now, Instant leaseUntil) { return Optional.empty(); }
        @Override public Heartbeat heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status, Instant now, Optional<Instant> notAfter) { return Heartbeat.refused(HeartbeatResult.UNKNOWN_SESSION); }
        @Override public java.util.Set<String> openSessionIds(AgentRef agent) { return java.util.Set.of(); }
        @Override public CloseResult close(Session current, CloseRequest request) { return new CloseResult.StillAlive(); }
        @Override public Optional<Transition> findTransition(SessionId id) { return Optional.empty(); }
        @Override public boolean completeTransition(SessionId id, String claim, TransitionState state, int attempts, boolean deferred, Optional<String> error, Instant now, Optional<backstop.core.events.EventOutbox.Kept> event) { return false; }
        @Override public boolean recordFailedAttempt(SessionId id, String claim, int attempts, String error, Instant nextAttemptAt,
                                       boolean callMayHaveLanded) { return false; }
        @Override public boolean releaseClaim(SessionId id, String claim, Instant now) { return false; }
        /** The hand-over count; {@code handOverAt}: when a close adds one (null: none does). */
        long handOvers;
        Instant handOverAt;
        RuntimeException handOverCountFails;
        final List<Instant> handOverLooks = new ArrayList<>();
        @Override public void countHandOver() { handOvers++; }
        /** A count that moves every second (hand-overs all the time). */
        boolean handOverEverySecond;
        @Override public long handOvers() {
            handOverLooks.add(clock.now);
            if (handOverCountFails != null) { throw handOverCountFails; }
            if (handOverEverySecond) { return Duration.between(START, clock.now).toSeconds(); }
            return handOvers + (handOverAt != null && !handOverAt.isAfter(clock.now) ? 1 : 0);
        }
        @Override public boolean failIntoSlowLane(SessionId id, String claim, int attempts, String error, Instant now, Instant next,
                                    boolean callMayHaveLanded, Optional<backstop.core.events.EventOutbox.Kept> event) { return false; }
    }

    final StepClock clock = new StepClock();
    final EmptyStore store = new EmptyStore(clock);

    Reconciler reconciler() {
        return reconciler(Duration.ofSeconds(75));
    }

    Reconciler reconciler(Duration staleAfter) {
        return reconciler(staleAfter, ReconcilerMetrics.NONE, 1.5);
    }

    Reconciler reconciler(Duration staleAfter, ReconcilerMetrics metrics, double rate) {
        ConnectAgentStatus connect = new ConnectAgentStatus(null, new InstanceRef("aws", "us-east-1", "123456789012", "i"));
        BatchingEventPublisher events = new BatchingEventPublisher(list -> { });
        OfflineTransitions transitions = new OfflineTransitions(store, connect, events, clock, Backoff.DEFAULT, 8, new SecureRandom());
        return new Reconciler(store, new StaleSessionSweep(store, staleAfter),
                new DueTransitionSweep(store, store, connect, transitions, events, metrics, clock, rate),
                new backstop.core.events.OutboxRelay(backstop.core.events.EventOutbox.NONE, null, clock), metrics, clock, wake -> clock.now = wake, Duration.ofSeconds(15), rate);
    }

    @Test
    void run_should_sweepEveryIntervalAndStopTakingWorkAtTheBudget_while_aSessionIsOpen() {
        store.open.add(new SessionId("0123456789abcdefghijkl"));
        Reconciler.Summary summary = reconciler().run(START.plus(Duration.ofSeconds(49)));

        assertThat(summary.sweeps()).isEqualTo(4); // at 0, 15, 30 and 45 s
        assertThat(summary.idle()).isFalse();
        assertThat(store.staleQueries).containsExactly(START, START.plusSeconds(15), START.plusSeconds(30), START.plusSeconds(45));
        assertThat(clock.now).isEqualTo(START.plusSeconds(49));
    }

    @Test
    void run_should_endAfterItsFirstSweep_when_nothingIsOpen_andNothingFallsDueBeforeTheBudgetEnds() {
        store.pendingDueAt = START.plusSeconds(50); // due after this run's budget: the next run's work

        Reconciler.Summary summary = reconciler().run(START.plus(Duration.ofSeconds(49)));

        assertThat(summary.sweeps()).isEqualTo(1);
        assertThat(summary.idle()).isTrue();
        assertThat(clock.now).as("no wait: billed for the sweep, not the budget").isEqualTo(START);
    }

    @Test
    void run_should_keepSweeping_when_aTransitionFallsDueBeforeTheBudgetEnds() {
        store.pendingDueAt = START.plusSeconds(30);

        Reconciler.Summary summary = reconciler().run(START.plus(Duration.ofSeconds(49)));

        assertThat(summary.sweeps()).isEqualTo(4);
        assertThat(summary.idle()).isFalse();
    }

    @Test
    void run_should_keepSweeping_when_theStaleLimitIsShorterThanTheSchedulePeriod() {
        // A session opened after an early end could go stale before the next run: the bound needs every sweep.
        Reconciler.Summary summary = reconciler(Reconciler.SCHEDULE_PERIOD.minusSeconds(1)).run(START.plus(Duration.ofSeconds(49)));

        assertThat(summary.sweeps()).isEqualTo(4);
        assertThat(summary.idle()).isFalse();
    }

    @Test
    void run_should_lookAtTheDueIndexOnlyAtItsSweeps_when_noCloseHandsWorkOver() {
        store.open.add(new SessionId("0123456789abcdefghijkl"));

        reconciler().run(START.plus(Duration.ofSeconds(49)));

        assertThat(store.dueLooks).containsExactly(START, START.plusSeconds(15), START.plusSeconds(30), START.plusSeconds(45));
        assertThat(store.handOverLooks).as("the count is read every second between them, not the due index's 16 shards")
                .contains(START.plusSeconds(1), START.plusSeconds(2), START.plusSeconds(14), START.plusSeconds(48));
    }

    @Test
    void run_should_workDueTransitionsWithinAPoll_when_aCloseHandsOneOverBetweenSweeps() {
        store.open.add(new SessionId("0123456789abcdefghijkl"));
        store.handOverAt = START.plusMillis(4_300); // a close found no Connect turn and handed its transition over

        reconciler().run(START.plus(Duration.ofSeconds(49)));

        assertThat(store.dueLooks).as("the hand-over is worked at the first look after it (5 s), not at the next sweep (15 s);"
                        + " that look found nothing (the due index lags), so one more a second later (6 s), then idle")
                .containsExactly(START, START.plusSeconds(5), START.plusSeconds(6), START.plusSeconds(15), START.plusSeconds(30),
                        START.plusSeconds(45));
    }

    @Test
    void run_should_stillSweepEvery15s_when_handOversComeEverySecond() {
        store.open.add(new SessionId("0123456789abcdefghijkl"));
        store.handOverEverySecond = true;

        Reconciler.Summary summary = reconciler().run(START.plus(Duration.ofSeconds(49)));

        assertThat(store.staleQueries).as("the crash path's sweeps keep their times").containsExactly(START, START.plusSeconds(15),
                START.plusSeconds(30), START.plusSeconds(45));
        assertThat(summary.sweeps()).isEqualTo(4);
        assertThat(store.dueLooks).as("a look every second, none twice at one time").doesNotHaveDuplicates().hasSizeGreaterThan(40);
    }

    @Test
    void run_should_goOnSweepingOnItsSchedule_when_theHandOverCountCannotBeRead() {
        store.open.add(new SessionId("0123456789abcdefghijkl"));
        store.handOverAt = START.plusSeconds(5);
        store.handOverCountFails = new IllegalStateException("DynamoDB unavailable");

        Reconciler.Summary summary = reconciler().run(START.plus(Duration.ofSeconds(49)));

        assertThat(summary.sweeps()).isEqualTo(4);
        assertThat(store.dueLooks).as("no wake from a count it cannot read: the sweeps find the work")
                .containsExactly(START, START.plusSeconds(15), START.plusSeconds(30), START.plusSeconds(45));
        assertThat(clock.now).isEqualTo(START.plusSeconds(49));
    }

    @Test
    void run_should_reportEachSweepsClosesAndBacklog_andFlushTheMetricsOnceAtTheEnd() {
        store.open.add(new SessionId("0123456789abcdefghijkl"));
        store.pendingDueAt = START; // one transition due (never claimable here): the backlog says 1
        DueTransitionSweepTest.RecordingMetrics metrics = new DueTransitionSweepTest.RecordingMetrics();

        reconciler(Duration.ofSeconds(75), metrics, 1.5).run(START.plus(Duration.ofSeconds(20)));

        assertThat(metrics.seen).containsExactly("stale 0", "backlog 1", "stale 0", "backlog 1", "flush");
    }

    @Test
    void chunks_should_holdASweepIntervalsCallsAtTheRate_atMost100_andNoMoreThanFitBeforeTheNextSweep() {
        store.pendingDueAt = START;
        reconciler(Duration.ofSeconds(75), ReconcilerMetrics.NONE, 5).run(START.plusSeconds(49));
        assertThat(store.dueLimits).as("5/s x 15 s").startsWith(75);

        store.dueLimits.clear();
        clock.now = START;
        reconciler(Duration.ofSeconds(75), ReconcilerMetrics.NONE, 1.5).run(START.plusSeconds(49));
        assertThat(store.dueLimits).as("22 calls fit before the next sweep: the chunk is no larger").startsWith(22);

        store.dueLimits.clear();
        clock.now = START;
        reconciler(Duration.ofSeconds(75), ReconcilerMetrics.NONE, 20).run(START.plusSeconds(49));
        assertThat(store.dueLimits).as("at most one GetCurrentUserData's 100").startsWith(100);
    }

    @Test
    void dueWork_should_getAtLeastOnePacedCall_whenSweepsComeEverySecond_notStarve() {
        store.pendingDueAt = START;
        store.open.add(new SessionId("0123456789abcdefghijkl"));
        ConnectAgentStatus connect = new ConnectAgentStatus(null, new InstanceRef("aws", "us-east-1", "123456789012", "i"));
        BatchingEventPublisher events = new BatchingEventPublisher(list -> { });
        OfflineTransitions transitions = new OfflineTransitions(store, connect, events, clock, Backoff.DEFAULT, 8, new SecureRandom());
        Reconciler everySecond = new Reconciler(store, new StaleSessionSweep(store, Duration.ofSeconds(13)),
                new DueTransitionSweep(store, store, connect, transitions, events, ReconcilerMetrics.NONE, clock, 1.5),
                new backstop.core.events.OutboxRelay(backstop.core.events.EventOutbox.NONE, null, clock), ReconcilerMetrics.NONE, clock,
                wake -> clock.now = wake, Duration.ofSeconds(1), 1.5);
        clock.now = START;
        store.listingTakes = Duration.ofMillis(500); // the next sweep half a second away: 0.75 calls fit before it
        everySecond.run(START.plusSeconds(5));
        assertThat(store.dueLimits).as("a chunk a sweep, of two paced calls at least: never none").isNotEmpty()
                .allSatisfy(limit -> assertThat(limit).isGreaterThanOrEqualTo(2));
    }

    @Test
    void sweepOnce_should_sweepWorkAndFlush_withoutABudget() {
        store.open.add(new SessionId("0123456789abcdefghijkl"));
        DueTransitionSweepTest.RecordingMetrics metrics = new DueTransitionSweepTest.RecordingMetrics();

        Reconciler.Summary summary = reconciler(Duration.ofSeconds(75), metrics, 1.5).sweepOnce();

        assertThat(summary.sweeps()).isEqualTo(1);
        assertThat(summary.staleClosed()).isZero();
        assertThat(store.staleQueries).containsExactly(START);
        assertThat(metrics.seen).containsExactly("stale 0", "backlog 0", "flush");
    }

    @Test
    void run_should_doNothing_when_theBudgetIsAlreadyUsed() {
        assertThat(reconciler().run(START).sweeps()).isZero();
        assertThat(store.staleQueries).isEmpty();
    }

    @ParameterizedTest
    @Event(value = "events/schedule.json", type = Map.class)
    @SuppressWarnings({"rawtypes", "unchecked"})
    void handler_should_runUntil9SecondsBeforeTheTimeout_when_theScheduleFires(Map event) {
        store.open.add(new SessionId("0123456789abcdefghijkl"));
        ReconcilerHandler handler = new ReconcilerHandler(reconciler(), clock);
        Map<String, Object> result = handler.handleRequest(event, new FixedContext(58_000));

        assertThat(result).containsEntry("sweeps", 4).containsEntry("staleSessionsClosed", 0).containsEntry("idle", false);
        assertThat(clock.now).isEqualTo(START.plusSeconds(49)); // 58 s timeout - 9 s margin
    }
}
