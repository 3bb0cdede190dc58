package backstop.reconciler;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;
import backstop.core.agent.InstanceRef;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.connect.ConnectPacer;
import backstop.core.connect.ScriptedConnect;
import backstop.core.events.BackstopEvent;
import backstop.core.events.BatchingEventPublisher;
import backstop.core.session.AgentRecord;
import backstop.core.session.CloseRequest;
import backstop.core.session.CloseResult;
import backstop.core.session.Heartbeat;
import backstop.core.session.IndexBackfilling;
import backstop.core.session.NewSession;
import backstop.core.session.Session;
import backstop.core.session.SessionId;
import backstop.core.session.SessionStore;
import backstop.core.session.SessionToken;
import backstop.core.session.TableLayout;
import backstop.core.transition.Backoff;
import backstop.core.transition.OfflineTransitions;
import backstop.core.transition.Transition;
import backstop.core.transition.TransitionQueue;
import backstop.core.transition.TransitionReason;
import backstop.core.transition.TransitionState;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The due-transition sweep's rules on in-memory stores and a scripted Connect: what it claims and under which
 * lease, whom it leaves alone (working again, already Offline), what it tells Connect about a live contact, and
 * that nothing is dispatched past the run's budget (those claims are given back).
 */
class DueTransitionSweepTest {
    static final InstanceRef INSTANCE = InstanceRef.parseArn("arn:aws:connect:us-east-1:123456789012:instance/i-1");
    static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");

    /** Transitions and agents in memory, with the claim semantics of the DynamoDB queue (due at now, lease). */
    static final class MemoryQueue implements SessionStore, TransitionQueue {
        final Map<SessionId, Transition> transitions = new ConcurrentHashMap<>();
        final Map<AgentRef, AgentRecord> agents = new ConcurrentHashMap<>();
        final List<String> claims = new CopyOnWriteArrayList<>();
        final List<String> completed = new CopyOnWriteArrayList<>();
        final List<String> released = new CopyOnWriteArrayList<>();
        final Set<SessionId> takenByOthers = ConcurrentHashMap.newKeySet();
        /** The moment each claim was made at (the sweep's clock when it prepared the chunk), in order. */
        final List<Instant> claimTimes = new CopyOnWriteArrayList<>();
        /** Shards read for due work, in order. */
        final List<Integer> dueQueries = new CopyOnWriteArrayList<>();
        /** Runs as each claim arrives (a test holds it). */
        Runnable onClaim = () -> { };
        /** While set, the due index answers as DynamoDB does while a deploy's new index fills. */
        volatile boolean dueIndexBackfilling;

        void due(Transition t) {
            transitions.put(t.sessionId(), t);
        }

        @Override
        public List<Transition> findDueTransitions(int shard, Instant now, int limit) {
            dueQueries.add(shard);
            if (dueIndexBackfilling) {
                throw new IndexBackfilling(TableLayout.DUE_TRANSITIONS_INDEX, null);
            }
            return transitions.values().stream().filter(t -> TableLayout.shard(t.sessionId()) == shard)
                    .filter(t -> t.state() == TransitionState.PENDING && !t.nextAttemptAt().isAfter(now))
                    // As the index: by due time (its sort key); ties by id, so the same order every run.
                    .sorted(java.util.Comparator.comparing(Transition::nextAttemptAt).thenComparing(t -> t.sessionId().value()))
                    .limit(limit).toList();
        }

        @Override
        public Optional<Transition> claim(SessionId id, String claim, Instant now, Instant leaseUntil) {
            onClaim.run();
            Transition t = transitions.get(id);
            if (takenByOthers.contains(id) || t == null || t.nextAttemptAt().isAfter(now)) {
                return Optional.empty();
            }
            claims.add(id.value() + " lease=+" + Duration.between(now, leaseUntil).toMillis() + "ms");
            claimTimes.add(now);
            Transition claimed = new Transition(t.sessionId(), t.agent(), t.reason(), t.state(), t.attempts(), t.created(), leaseUntil,
                    Optional.of(claim), t.lastError(), t.completedAt(), t.deferred(), t.checkExemption());
            transitions.put(id, claimed);
            return Optional.of(claimed);
        }

        @Override
        public boolean releaseClaim(SessionId id, String claim, Instant dueAt) {
            released.add(id.value());
            transitions.computeIfPresent(id, (key, t) -> new Transition(t.sessionId(), t.agent(), t.reason(), t.state(), t.attempts(),
                    t.created(), dueAt, Optional.empty(), t.lastError(), t.completedAt(), t.deferred(), t.checkExemption()));
            return true;
        }

        long handOvers;

        @Override
        public void countHandOver() {
            handOvers++;
        }

        @Override
        public long handOvers() {
            return handOvers;
        }

        @Override
        public long countDueTransitions(Instant now) {
            if (dueIndexBackfilling) {
                throw new IndexBackfilling(TableLayout.DUE_TRANSITIONS_INDEX, null);
            }
            return transitions.values().stream().filter(t -> t.state() == TransitionState.PENDING && !t.nextAttemptAt().isAfter(now)).count();
        }

        @Override
        public Optional<Transition> findTransition(SessionId id) {
            return Optional.ofNullable(transitions.get(id));
        }

        @Override
        public boolean completeTransition(SessionId id, String claim, TransitionState state, int attempts, boolean deferred,
                                          Optional<String> error, Instant now, Optional<backstop.core.events.EventOutbox.Kept> event) {
            completed.add(transitions.get(id).agent().userId() + " " + state + (deferred ? " deferred" : "") + error.map(e -> " (" + e + ")").orElse(""));
            transitions.remove(id);
            return true;
        }

        @Override
        public boolean failIntoSlowLane(SessionId id, String claim, int attempts, String error, Instant now, Instant next,
                                    boolean callMayHaveLanded, Optional<backstop.core.events.EventOutbox.Kept> event) {
            completed.add(transitions.get(id).agent().userId() + " FAILED");
            return true;
        }

        @Override
        public boolean recordFailedAttempt(SessionId id, String claim, int attempts, String error, Instant next,
                                       boolean callMayHaveLanded) {
            completed.add(transitions.get(id).agent().userId() + " RETRY");
            return true;
        }

        @Override
        public Map<AgentRef, AgentRecord> findAgents(Collection<AgentRef> refs) {
            Map<AgentRef, AgentRecord> found = new HashMap<>();
            refs.forEach(ref -> Optional.ofNullable(agents.get(ref)).ifPresent(a -> found.put(ref, a)));
            return found;
        }

        @Override public boolean createSession(NewSession session) { throw new UnsupportedOperationException(); }
        @Override public Optional<Session> findSession(SessionId id) { throw new UnsupportedOperationException(); }
        @Override public Optional<AgentRecord> findAgent(AgentRef agent) { return Optional.ofNullable(agents.get(agent)); }
        @Override public List<SessionId> openSessionsInShard(int shard, Optional<Instant> createdAfter) { return List.of(); }
        @Override public List<Session> readSessions(Collection<SessionId> ids) { return List.of(); }
        @Override public Heartbeat heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status, Instant now, Optional<Instant> notAfter) { throw new UnsupportedOperationException(); }
        @Override public java.util.Set<String> openSessionIds(AgentRef agent) { throw new UnsupportedOperationException(); }
        @Override public CloseResult close(Session current, CloseRequest request) { throw new UnsupportedOperationException(); }
    }

    final MemoryQueue queue = new MemoryQueue();
    final ScriptedConnect connect = new ScriptedConnect();
    final List<BackstopEvent> events = new CopyOnWriteArrayList<>();
    final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);

    DueTransitionSweep sweep(double rate) {
        return sweep(rate, ReconcilerMetrics.NONE);
    }

    DueTransitionSweep sweep(double rate, ReconcilerMetrics metrics) {
        return sweep(new ConnectPacer(rate), clock, rate, metrics, new BatchingEventPublisher(events::addAll));
    }

    /** The sweep wired as the reconciler wires it, on the given pacer, clock and event publisher. */
    DueTransitionSweep sweep(ConnectPacer pacer, Clock on, double rate, ReconcilerMetrics metrics, BatchingEventPublisher published) {
        ConnectAgentStatus gateway = new ConnectAgentStatus(connect, INSTANCE, pacer);
        OfflineTransitions transitions = new OfflineTransitions(queue, gateway, published, on, Backoff.DEFAULT, 8, new Random(1));
        return new DueTransitionSweep(queue, queue, gateway, transitions, published, metrics, on, rate);
    }

    /** What the sweep reported, in order. */
    static final class RecordingMetrics implements ReconcilerMetrics {
        @Override public void sessionsHeld(int count) { }
        final List<String> seen = new CopyOnWriteArrayList<>();
        @Override public void staleSessionsClosed(int count) { seen.add("stale " + count); }
        @Override public void transitionDone(boolean deferred) { seen.add(deferred ? "done deferred" : "done"); }
        @Override public void transitionNotNeeded() { seen.add("not needed"); }
        @Override public void transitionFailed() { seen.add("failed"); }
        @Override public void transitionRetryScheduled() { seen.add("retry"); }
        @Override public void connectThrottled() { seen.add("throttled"); }
        @Override public void pendingBacklog(long count) { seen.add("backlog " + count); }
        @Override public void sweepSkippedIndexBackfilling() { seen.add("skipped: index backfilling"); }
        @Override public void flush() { seen.add("flush"); }
    }

    /** A session id of the given index shard (ids are searched in order, so the same ones every run). */
    static SessionId idInShard(int shard, int skip) {
        int found = 0;
        for (int n = 0; ; n++) {
            SessionId id = new SessionId(String.format("session%015d", n));
            if (TableLayout.shard(id) == shard && found++ == skip) {
                return id;
            }
        }
    }

    static Transition due(String userId, SessionId id) {
        return new Transition(id, new AgentRef(INSTANCE, userId), TransitionReason.STALE_SESSION, TransitionState.PENDING, 0,
                NOW.minusSeconds(60), NOW.minusSeconds(1), Optional.empty(), Optional.empty(), Optional.empty(), false, false);
    }

    /** Due transitions of agents u-0 .. u-(count - 1). */
    void dueAgents(int count) {
        for (int i = 0; i < count; i++) {
            queue.due(due("u-" + i, i));
        }
    }

    static Transition due(String userId, int n) {
        return new Transition(new SessionId(String.format("session%015d", n)), new AgentRef(INSTANCE, userId), TransitionReason.STALE_SESSION,
                TransitionState.PENDING, 0, NOW.minusSeconds(60), NOW.minusSeconds(1), Optional.empty(), Optional.empty(),
                Optional.empty(), false, false);
    }

    @Test
    void dueTransitions_should_beClaimedUnderALeaseCoveringTheirPacedCalls_andSetOffline() {
        dueAgents(4);

        int claimed = sweep(2).processDue(100, NOW.plusSeconds(45));
        sweep(2).awaitEvents();

        assertThat(claimed).isEqualTo(4);
        // 4 calls at 2/s take 2 s; the lease is twice that, plus 30 s of slack.
        assertThat(queue.claims).hasSize(4).allSatisfy(c -> assertThat(c).endsWith("lease=+34000ms"));
        assertThat(connect.puts).extracting(p -> p.userId()).containsExactlyInAnyOrder("u-0", "u-1", "u-2", "u-3");
        assertThat(queue.completed).containsExactlyInAnyOrder("u-0 DONE", "u-1 DONE", "u-2 DONE", "u-3 DONE");
        assertThat(connect.lookups).as("one GetCurrentUserData for the chunk").hasSize(2); // two agents a page
    }

    @Test
    void agents_should_beLeftAlone_when_workingAgainOrAlreadyOffline_andSetAsNextStatus_whenOnAContact() {
        queue.due(due("working", 1));
        queue.due(due("busy-on-contact", 2)); // ScriptedConnect: "busy-" agents are Offline-queued and on a contact
        queue.due(due("u-plain", 3));
        AgentRef working = new AgentRef(INSTANCE, "working");
        queue.agents.put(working, new AgentRecord(working, Set.of("newer-session"), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty()));

        sweep(100).processDue(100, NOW.plusSeconds(45));

        assertThat(queue.completed).containsExactlyInAnyOrder("working NOT_NEEDED (agent has an open session again)",
                "busy-on-contact NOT_NEEDED (agent already Offline)", "u-plain DONE");
        assertThat(connect.puts).extracting(p -> p.userId()).containsExactly("u-plain");
        assertThat(connect.lookups).singleElement().satisfies(r ->
                assertThat(r.filters().agents()).as("only those not working again are checked").containsExactlyInAnyOrder("busy-on-contact", "u-plain"));
    }

    @Test
    void transitions_should_beSetOfflineUnchecked_when_getCurrentUserDataFails() {
        queue.due(due("u-1", 1));
        connect.lookupAnswer = 429;

        sweep(100).processDue(100, NOW.plusSeconds(45));

        assertThat(connect.lookups).hasSize(1);
        assertThat(connect.puts).extracting(p -> p.userId()).containsExactly("u-1");
        assertThat(queue.completed).containsExactly("u-1 DONE");
    }

    @Test
    void event_should_leaveDeferredOut_when_connectCouldNotSayWhetherTheAgentWasOnAContact() {
        queue.due(due("u-unchecked", 1));
        connect.lookupAnswer = 429;
        DueTransitionSweep sweep = sweep(100);

        sweep.processDue(100, NOW.plusSeconds(45));
        sweep.awaitEvents();

        assertThat(events).singleElement().satisfies(e -> assertThat(e.detail()).as("docs/events.md: present only when known")
                .containsEntry("userId", "u-unchecked").doesNotContainKey("deferred"));
    }

    @Test
    void event_should_sayDeferredFalse_when_connectReportedTheAgentOffAnyContact() {
        queue.due(due("u-plain", 1));
        DueTransitionSweep sweep = sweep(100);

        sweep.processDue(100, NOW.plusSeconds(45));
        sweep.awaitEvents();

        assertThat(events).singleElement().satisfies(e -> assertThat(e.detail()).containsEntry("deferred", false));
    }

    @Test
    void aChunk_should_holdNoMoreThanFitsBeforeTheBudgetEnds_andTakeNothingWhenNothingFits() {
        dueAgents(20);

        // At 2/s with 3 s left, 6 calls fit; the clock is fixed, so the next chunk has the same 3 s... minus the
        // 6 queued calls' 3 s: nothing more is claimed.
        int claimed = sweep(2).processDue(100, NOW.plusSeconds(3));

        assertThat(claimed).isEqualTo(6);
        assertThat(queue.claims).hasSize(6);
        assertThat(sweep(2).processDue(100, NOW)).as("no budget, no claim").isZero();
        assertThat(queue.claims).hasSize(6);
    }

    @Test
    void claimsOthersHold_should_beSkipped_andTheRestWorked() {
        queue.due(due("u-1", 1));
        queue.due(due("u-2", 2));
        queue.takenByOthers.add(new SessionId(String.format("session%015d", 1)));

        int claimed = sweep(100).processDue(100, NOW.plusSeconds(45));

        assertThat(claimed).isEqualTo(1);
        assertThat(connect.puts).extracting(p -> p.userId()).containsExactly("u-2");
    }

    @Test
    void chunkLimit_should_boundEachChunk_andTheSweepGoOnUntilNothingIsDue() {
        dueAgents(7);

        int claimed = sweep(100).processDue(3, NOW.plusSeconds(45));

        assertThat(claimed).isEqualTo(7);
        assertThat(queue.completed).hasSize(7);
        assertThat(connect.lookups.stream().map(r -> r.filters().agents().size()).toList())
                .as("chunks of at most 3 agents, one lookup (two pages of two) each").allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(3));
    }

    @Test
    void chunks_should_takeTheShardsInTurn_soOneBusyShardCannotStarveTheOthers() {
        queue.due(due("a", idInShard(0, 0)));
        queue.due(due("b", idInShard(0, 1)));
        queue.due(due("c", idInShard(5, 0)));

        int claimed = sweep(100).processDue(1, NOW.plusSeconds(45));

        assertThat(claimed).isEqualTo(3);
        // Chunk 1 starts at shard 0 (a), chunk 2 at shard 1 and finds shard 5 (c) before coming round to shard 0 (b).
        assertThat(queue.claims).extracting(c -> c.substring(0, c.indexOf(' '))).containsExactly(
                idInShard(0, 0).value(), idInShard(5, 0).value(), idInShard(0, 1).value());
    }

    @Test
    void metrics_should_countEveryOutcome_andAThrottledLookup() {
        queue.due(due("working", 1));
        queue.due(due("busy-on-contact", 2));
        queue.due(due("u-plain", 3));
        AgentRef working = new AgentRef(INSTANCE, "working");
        queue.agents.put(working, new AgentRecord(working, Set.of("newer-session"), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty()));
        RecordingMetrics metrics = new RecordingMetrics();

        sweep(100, metrics).processDue(100, NOW.plusSeconds(45));

        assertThat(metrics.seen).containsExactlyInAnyOrder("not needed", "not needed", "done");

        queue.due(due("u-throttled", 4));
        connect.lookupAnswer = 429;
        RecordingMetrics throttled = new RecordingMetrics();
        sweep(100, throttled).processDue(100, NOW.plusSeconds(45));
        assertThat(throttled.seen).containsExactly("throttled", "done");
    }

    @Test
    void awaitEvents_should_returnOnlyOnceEveryEventOfTheSweepIsPublished() throws Exception {
        queue.due(due("u-1", 1));
        queue.due(due("u-2", 2));
        // EventBridge is slow: the events reach it only once the test thread waits in awaitEvents.
        java.util.concurrent.CountDownLatch slow = new java.util.concurrent.CountDownLatch(1);
        BatchingEventPublisher published = new BatchingEventPublisher(batch -> {
            try {
                slow.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            events.addAll(batch);
        });
        DueTransitionSweep sweep = sweep(new ConnectPacer(100), clock, 100, ReconcilerMetrics.NONE, published);
        sweep.processDue(100, NOW.plusSeconds(45));
        Thread waiter = Thread.currentThread();
        Thread.ofVirtual().start(() -> {
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> waiter.getState() == Thread.State.WAITING
                    || waiter.getState() == Thread.State.TIMED_WAITING);
            slow.countDown();
        });

        sweep.awaitEvents();

        assertThat(events).extracting(e -> e.getClass().getSimpleName()).containsExactlyInAnyOrder("AgentSetOffline", "AgentSetOffline");
    }

    /** A clock the pacer's waits move on (no real sleeping): the sweep, its budget and its pacer all read it. */
    static final class MovedClock extends Clock {
        final java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();

        @Override public java.time.ZoneId getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { throw new UnsupportedOperationException(); }
        @Override public Instant instant() { return NOW.plusNanos(nanos.get()); }

        void advance(Duration by) {
            nanos.addAndGet(by.toNanos());
        }
    }

    DueTransitionSweep sweepOn(MovedClock moved, double rate) {
        return sweep(new ConnectPacer(rate, moved.nanos::get, moved.nanos::addAndGet), moved, rate, ReconcilerMetrics.NONE,
                new BatchingEventPublisher(events::addAll));
    }

    @Test
    void aCheckThatOutlastsTheBudget_should_leaveNoCallToMake_evenWithTheBurstUnspent() {
        dueAgents(4);
        MovedClock moved = new MovedClock();
        connect.onLookup = () -> moved.advance(Duration.ofSeconds(3)); // the check answers after the budget ended

        int claimed = sweepOn(moved, 2).processDue(100, NOW.plusSeconds(5));

        assertThat(claimed).isEqualTo(4);
        assertThat(connect.puts).as("every turn would come after the budget").isEmpty();
        assertThat(queue.released).hasSize(4);
    }

    /**
     * Due work keeps its place: transitions given back untried at the end of a run's slice are due again when they
     * were due before, so the next slice takes them before a transition that fell due after them (given back "due
     * now", they would queue behind it, and behind every newer one at each run end).
     */
    @Test
    void transitionsGivenBackUntried_should_keepTheirPlace_aheadOfOnesThatFellDueAfterThem() {
        for (int i = 0; i < 4; i++) {
            queue.due(due("u-" + i, idInShard(0, i))); // due at NOW - 1 s, in one shard (each shard is a queue by due time)
        }
        MovedClock moved = new MovedClock();
        connect.onLookup = () -> moved.advance(Duration.ofSeconds(3)); // the check outlasts the budget: all 4 given back
        sweepOn(moved, 2).processDue(100, NOW.plusSeconds(2));
        assertThat(queue.released).hasSize(4);
        assertThat(connect.puts).isEmpty();

        SessionId newer = idInShard(0, 4);
        queue.due(new Transition(newer, new AgentRef(INSTANCE, "newer"),
                TransitionReason.STALE_SESSION, TransitionState.PENDING, 0, NOW, NOW.plusSeconds(1), Optional.empty(), Optional.empty(),
                Optional.empty(), false, false)); // fell due after them, before they were given back
        connect.onLookup = () -> { };
        sweepOn(moved, 2).processDue(4, moved.instant().plusSeconds(2)); // one chunk of 4
        sweep(2).awaitEvents();

        assertThat(connect.puts).extracting(p -> p.userId()).as("the older four first").containsExactlyInAnyOrder("u-0", "u-1", "u-2", "u-3");
        assertThat(queue.transitions.get(newer).state()).isEqualTo(TransitionState.PENDING);
    }

    @Test
    void callsWhoseTurnComesAfterTheBudget_should_notBeMade_andTheirClaimsGivenBack() {
        dueAgents(20);
        MovedClock moved = new MovedClock();
        List<Duration> putAt = new CopyOnWriteArrayList<>();
        connect.onPut = request -> putAt.add(Duration.between(NOW, moved.instant()));
        connect.onLookup = () -> moved.advance(Duration.ofMillis(900)); // a slow GetCurrentUserData (a page of two agents)

        // 3 s at 2/s: a chunk of 6. Its check (three pages) answers at 2.7 s: the burst of 4 goes out then, the 5th
        // turn would be at 3.2 s, after the budget: two claims are given back untried.
        int claimed = sweepOn(moved, 2).processDue(100, NOW.plusSeconds(3));

        assertThat(claimed).isEqualTo(6);
        assertThat(putAt).hasSize(4).allSatisfy(at -> assertThat(at).isLessThanOrEqualTo(Duration.ofSeconds(3)));
        assertThat(queue.released).hasSize(2);
        Set<String> put = connect.puts.stream().map(p -> p.userId()).collect(java.util.stream.Collectors.toSet());
        assertThat(queue.released).as("given back: exactly the claimed transitions not tried")
                .allSatisfy(id -> assertThat(put).doesNotContain(queue.transitions.get(new SessionId(id)).agent().userId()));
    }

    @Test
    void calls_should_goOutAtThePacedRate_afterTheBurst() {
        dueAgents(10);
        MovedClock moved = new MovedClock();
        List<Duration> putAt = new CopyOnWriteArrayList<>();
        connect.onPut = request -> putAt.add(Duration.between(NOW, moved.instant()));

        sweepOn(moved, 2).processDue(100, NOW.plusSeconds(45));

        // The check before the calls (five pages of two agents) waits 500 ms for its own fifth turn; then a burst of 4
        // (Connect's 5 less one) and one call every 500 ms. A call is recorded when its worker makes it, which can be
        // after its turn, never before: the k-th call (from 0) no earlier than 500 ms + (k - 3) x 500 ms.
        List<Duration> sorted = putAt.stream().sorted().toList();
        assertThat(sorted).hasSize(10);
        for (int k = 4; k < sorted.size(); k++) {
            assertThat(sorted.get(k)).as("call %d", k).isGreaterThanOrEqualTo(Duration.ofMillis(500L + 500L * (k - 3)));
        }
        assertThat(Duration.between(NOW, moved.instant())).as("and no slower: the paced waits add up to 3.5 s").isEqualTo(Duration.ofMillis(3500));
    }

    /** A slow service: every call waits until the test lets them all go; counts how many wait at once. */
    static final class HeldCalls implements Runnable {
        final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.atomic.AtomicInteger most = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.CountDownLatch answer = new java.util.concurrent.CountDownLatch(1);

        @Override
        public void run() {
            most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                answer.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            inFlight.decrementAndGet();
        }

        /** Runs a sweep over {@code count} due transitions, lets the calls go once the limit is in flight; the most at once. */
        int mostInFlight(DueTransitionSweepTest test, int count) throws Exception {
            test.dueAgents(count);
            java.util.concurrent.CompletableFuture<Integer> run = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> test.sweep(1000).processDue(100, NOW.plusSeconds(45)));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> inFlight.get() == DueTransitionSweep.MAX_IN_FLIGHT);
            answer.countDown();
            assertThat(run.get(20, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(count);
            return most.get();
        }
    }

    @Test
    void callsInFlight_should_neverExceedTheLimit_whileConnectIsSlowToAnswer() throws Exception {
        HeldCalls connectAnswers = new HeldCalls();
        connect.onPut = request -> connectAnswers.run();

        assertThat(connectAnswers.mostInFlight(this, DueTransitionSweep.MAX_IN_FLIGHT + 8)).isEqualTo(DueTransitionSweep.MAX_IN_FLIGHT);
        assertThat(connect.puts).hasSize(DueTransitionSweep.MAX_IN_FLIGHT + 8);
    }

    @Test
    void aBigChunkWhoseCheckOutlastsTheBudget_should_giveEverythingBack_andStillEnd() {
        // 12 agents: the run gives up before the point where the next chunk is prepared (6 calls before the end).
        dueAgents(12);
        MovedClock moved = new MovedClock();
        connect.onLookup = () -> moved.advance(Duration.ofMillis(1100)); // six pages: 6.6 s

        int claimed = sweepOn(moved, 2).processDue(100, NOW.plusSeconds(6));

        assertThat(claimed).isEqualTo(12);
        assertThat(connect.puts).isEmpty();
        assertThat(queue.released).hasSize(12);
    }

    @Test
    void anAgentKnownButWithNoSessionOpen_should_beSetOffline() {
        queue.due(due("u-1", 1));
        AgentRef agent = new AgentRef(INSTANCE, "u-1");
        queue.agents.put(agent, new AgentRecord(agent, Set.of(), Optional.of("u1"), Optional.empty(), Optional.empty(), Optional.empty()));

        sweep(100).processDue(100, NOW.plusSeconds(45));

        assertThat(queue.completed).containsExactly("u-1 DONE");
    }

    @Test
    void anOfflineStatusThatCannotBeLookedUp_should_notCountTheAgentsAsOffline_butLeaveThemToTheAttempt() {
        queue.due(due("busy-on-contact", 1)); // Connect reports Offline queued: would be skipped if the status were known
        connect.listAnswer = 500;

        sweep(100).processDue(100, NOW.plusSeconds(45));

        assertThat(queue.completed).as("tried, and its failure recorded for a retry").containsExactly("busy-on-contact RETRY");
    }

    @Test
    void anInterruptedRun_should_dispatchNoMore_giveTheRestBack_andKeepTheInterrupt() {
        dueAgents(6);
        // The interrupt comes while the chunk is checked: the burst's 4 calls need no wait, the 5th would.
        connect.onLookup = () -> Thread.currentThread().interrupt();
        try {
            int claimed = sweep(2).processDue(6, NOW.plusSeconds(45));

            assertThat(claimed).isEqualTo(6);
            assertThat(Thread.currentThread().isInterrupted()).as("the interrupt is kept for the caller").isTrue();
        } finally {
            Thread.interrupted();
        }
        assertThat(connect.puts).hasSize(4);
        assertThat(queue.released).hasSize(2);
    }

    @Test
    void theNextChunk_should_bePreparedWhenTheCurrentOneHasThreeSecondsOfCallsLeft() {
        dueAgents(20);
        MovedClock moved = new MovedClock();

        sweepOn(moved, 2).processDue(12, NOW.plusSeconds(45));

        // Chunk 1 (12) is claimed at 0 s; its check, six pages, waits twice for GetCurrentUserData's turn (1 s); then
        // the burst of 4 at 1 s and one call every 500 ms: with 6 calls (3 s at 2/s) left, at 2 s, chunk 2 is prepared.
        assertThat(queue.claimTimes).hasSize(20);
        assertThat(queue.claimTimes.subList(0, 12)).containsOnly(NOW);
        assertThat(queue.claimTimes.subList(12, 20)).containsOnly(NOW.plusSeconds(2));
    }

    @Test
    void aChunk_should_takeNoMoreThanItsSize_acrossShards_andReadNoShardMoreThanNeeded() {
        for (int i = 0; i < 3; i++) {
            queue.due(due("a-" + i, idInShard(0, i)));
        }
        for (int i = 0; i < 10; i++) {
            queue.due(due("b-" + i, idInShard(1, i)));
        }

        sweep(100).processDue(6, NOW.plusSeconds(45));

        assertThat(connect.lookups.getFirst().filters().agents()).as("the first chunk: 3 from shard 0, 3 from shard 1").hasSize(6);
        assertThat(queue.dueQueries.subList(0, 2)).as("two shards read for it, no more").containsExactly(0, 1);
    }

    @Test
    void aSweepWithNothingDue_should_readEachShardOnce() {
        sweep(100).processDue(100, NOW.plusSeconds(45));
        assertThat(queue.dueQueries).hasSize(TableLayout.SHARDS).doesNotHaveDuplicates();
    }

    @Test
    void claims_should_neverHaveMoreThanTheLimitInFlight() throws Exception {
        HeldCalls dynamoAnswers = new HeldCalls();
        queue.onClaim = dynamoAnswers;

        assertThat(dynamoAnswers.mostInFlight(this, DueTransitionSweep.MAX_IN_FLIGHT + 8)).isEqualTo(DueTransitionSweep.MAX_IN_FLIGHT);
    }
}
