package backstop.reconciler;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;
import backstop.core.agent.InstanceRef;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.events.BatchingEventPublisher;
import backstop.core.session.AgentRecord;
import backstop.core.session.CloseRequest;
import backstop.core.session.CloseResult;
import backstop.core.session.Heartbeat;
import backstop.core.session.HeartbeatResult;
import backstop.core.session.NewSession;
import backstop.core.session.Session;
import backstop.core.session.SessionId;
import backstop.core.session.SessionStore;
import backstop.core.session.SessionToken;
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

    /** Records the stale cut-offs asked for; nothing is ever stale or due. */
    static final class EmptyStore implements SessionStore, TransitionQueue {
        final List<Instant> staleQueries = new ArrayList<>();
        @Override public boolean createSession(NewSession session) { return false; }
        @Override public Optional<Session> findSession(SessionId id) { return Optional.empty(); }
        @Override public Optional<AgentRecord> findAgent(AgentRef agent) { return Optional.empty(); }
        @Override public Map<AgentRef, AgentRecord> findAgents(Collection<AgentRef> agents) { return Map.of(); }
        @Override public List<Session> findStaleSessions(int shard, Instant cutoff, int limit) {
            if (shard == 0) { staleQueries.add(cutoff); }
            return List.of();
        }
        @Override public List<Transition> findDueTransitions(int shard, Instant now, int limit) { return List.of(); }
        @Override public long countDueTransitions(Instant now) { return 0; }
        @Override public Optional<Transition> claim(SessionId id, String claim, Instant now, Instant leaseUntil) { return Optional.empty(); }
        @Override public Heartbeat heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status, Instant now, Optional<Instant> notAfter) { return Heartbeat.refused(HeartbeatResult.UNKNOWN_SESSION); }
        @Override public java.util.Set<String> openSessionIds(AgentRef agent) { return java.util.Set.of(); }
        @Override public CloseResult close(Session current, CloseRequest request) { return new CloseResult.StillAlive(); }
        @Override public Optional<Transition> findTransition(SessionId id) { return Optional.empty(); }
        @Override public boolean completeTransition(SessionId id, String claim, TransitionState state, int attempts, boolean deferred, Optional<String> error, Instant now) { return false; }
        @Override public boolean recordFailedAttempt(SessionId id, String claim, int attempts, String error, Instant nextAttemptAt) { return false; }
        @Override public boolean releaseClaim(SessionId id, String claim, Instant now) { return false; }
        @Override public boolean failIntoSlowLane(SessionId id, String claim, int attempts, String error, Instant now, Instant next) { return false; }
    }

    final StepClock clock = new StepClock();
    final EmptyStore store = new EmptyStore();

    Reconciler reconciler() {
        ConnectAgentStatus connect = new ConnectAgentStatus(null, new InstanceRef("aws", "us-east-1", "123456789012", "i"));
        BatchingEventPublisher events = new BatchingEventPublisher(list -> { });
        OfflineTransitions transitions = new OfflineTransitions(store, connect, events, clock, Backoff.DEFAULT, 8, new SecureRandom());
        return new Reconciler(store, new StaleSessionSweep(store, Duration.ofSeconds(75)),
                new DueTransitionSweep(store, store, connect, transitions, events, ReconcilerMetrics.NONE, clock, 1.5),
                new backstop.core.events.OutboxRelay(backstop.core.events.EventOutbox.NONE, null), ReconcilerMetrics.NONE, clock, wake -> clock.now = wake, Duration.ofSeconds(15), 1.5);
    }

    @Test
    void run_should_sweepEveryIntervalAndStopTakingWorkAtTheBudget() {
        Reconciler.Summary summary = reconciler().run(START.plus(Duration.ofSeconds(49)));

        assertThat(summary.sweeps()).isEqualTo(4); // at 0, 15, 30 and 45 s
        assertThat(store.staleQueries).containsExactly(START.minusSeconds(75), START.minusSeconds(60), START.minusSeconds(45),
                START.minusSeconds(30));
        assertThat(clock.now).isEqualTo(START.plusSeconds(49));
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
        ReconcilerHandler handler = new ReconcilerHandler(reconciler(), clock);
        Map<String, Object> result = handler.handleRequest(event, new FixedContext(58_000));

        assertThat(result).containsEntry("sweeps", 4).containsEntry("staleSessionsClosed", 0);
        assertThat(clock.now).isEqualTo(START.plusSeconds(49)); // 58 s timeout - 9 s margin
    }
}
