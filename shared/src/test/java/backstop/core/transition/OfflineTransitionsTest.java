package backstop.core.transition;

import backstop.core.agent.AgentRef;
import backstop.core.agent.InstanceRef;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.connect.ScriptedConnect;
import backstop.core.events.BackstopEvent;
import backstop.core.events.EventOutbox;
import backstop.core.events.EventPublisher;
import backstop.core.events.StagedEvent;
import backstop.core.session.SessionId;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One claimed transition carried out against a scripted Connect and an in-memory store. */
class OfflineTransitionsTest {
    static final InstanceRef INSTANCE = InstanceRef.parseArn("arn:aws:connect:us-east-1:123456789012:instance/i-1");
    static final AgentRef AGENT = new AgentRef(INSTANCE, "u-1");
    static final SessionId SESSION = new SessionId("sessionSessionSession0");
    static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");

    /** Records what was written under which claim; a claim can be made to be lost. */
    static final class MemoryStore implements TransitionStore {
        final List<String> writes = new ArrayList<>();
        boolean claimLost;

        @Override public Optional<Transition> findTransition(SessionId id) { return Optional.empty(); }

        @Override
        public boolean completeTransition(SessionId id, String claim, TransitionState state, int attempts, boolean deferred,
                                          Optional<String> error, Instant now, Optional<backstop.core.events.EventOutbox.Kept> event) {
            writes.add("complete " + state + " attempts=" + attempts + " deferred=" + deferred + " error=" + error.orElse("-") + " claim=" + claim
                    + row(event));
            return !claimLost;
        }

        @Override
        public boolean failIntoSlowLane(SessionId id, String claim, int attempts, String error, Instant now, Instant next,
                                    boolean callMayHaveLanded, Optional<backstop.core.events.EventOutbox.Kept> event) {
            writes.add("slow-lane attempts=" + attempts + " error=" + error + " next=+" + Duration.between(now, next).toMinutes() + "min"
                    + (callMayHaveLanded ? " landed" : "") + row(event));
            return !claimLost;
        }

        @Override
        public boolean recordFailedAttempt(SessionId id, String claim, int attempts, String error, Instant next,
                                       boolean callMayHaveLanded) {
            writes.add("retry attempts=" + attempts + " error=" + error + (callMayHaveLanded ? " landed" : "") + " next=" + next);
            return !claimLost;
        }

        @Override
        public boolean releaseClaim(SessionId id, String claim, Instant now) {
            writes.add("released at " + now);
            return !claimLost;
        }

        RuntimeException countFails;

        @Override
        public void countHandOver() {
            if (countFails != null) {
                throw countFails;
            }
            writes.add("hand-over counted");
        }
    }

    /** The row written with an outcome, as the store's write shows it. */
    static String row(Optional<EventOutbox.Kept> event) {
        return event.map(kept -> " with row " + kept.key()).orElse("");
    }

    /**
     * Stages each event with an outbox row (keyed by its eventId) and records its publish among the store's writes,
     * so a test sees the order; {@code stopped}: the process stops at the publish (after the outcome's write).
     */
    final class StagingPublisher implements EventPublisher {
        final List<BackstopEvent> published = new ArrayList<>();
        boolean stopped;

        @Override
        public void publish(List<? extends BackstopEvent> events) {
            throw new UnsupportedOperationException("outcome events are staged");
        }

        @Override
        public StagedEvent stage(BackstopEvent event) {
            return new StagedEvent(event, Optional.of(new EventOutbox.Kept(event.eventId(),
                    PutEventsRequestEntry.builder().detailType(event.detailType()).build())));
        }

        @Override
        public void publishStaged(List<StagedEvent> events) {
            if (stopped) {
                throw new ProcessStopped();
            }
            events.forEach(e -> store.writes.add("publish " + e.event().detailType() + " " + e.event().eventId()));
            events.forEach(e -> published.add(e.event()));
        }
    }

    /** The process stopped (a time-out, a kill): nothing after it runs, nothing catches it. */
    static final class ProcessStopped extends Error {
    }

    final ScriptedConnect connect = new ScriptedConnect();
    final MemoryStore store = new MemoryStore();
    final List<BackstopEvent> events = new ArrayList<>();
    final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    final OfflineTransitions transitions = new OfflineTransitions(store, new ConnectAgentStatus(connect, INSTANCE), events::addAll,
            clock, Backoff.DEFAULT, 3, new Random(7), Set.of("rp-supervisors"));

    static Transition pending(int attempts, boolean checkExemption) {
        return new Transition(SESSION, AGENT, TransitionReason.TAB_CLOSED, TransitionState.PENDING, attempts, NOW.minusSeconds(5),
                NOW, Optional.of("claim-1"), Optional.empty(), Optional.empty(), false, checkExemption);
    }

    static Transition failedAt(Instant firstFailure, int attempts) {
        return new Transition(SESSION, AGENT, TransitionReason.STALE_SESSION, TransitionState.FAILED, attempts, firstFailure,
                NOW, Optional.of("claim-1"), Optional.of("AccessDeniedException (403)"), Optional.of(firstFailure), false, false);
    }

    @Test
    void attempt_should_setOfflineCompleteDoneAndPublishOnce_withTheCloseReasonOnTheFirstAttempt() {
        OfflineTransitions.Attempt attempt = transitions.attempt(pending(0, false), "claim-1", Optional.of(true));

        assertThat(attempt).isEqualTo(new OfflineTransitions.Attempt(OfflineTransitions.Result.DONE, false));
        assertThat(connect.puts).singleElement().satisfies(p -> assertThat(p.userId()).isEqualTo("u-1"));
        assertThat(store.writes).containsExactly("complete DONE attempts=1 deferred=true error=- claim=claim-1");
        assertThat(events).singleElement().isInstanceOfSatisfying(BackstopEvent.AgentSetOffline.class, e -> {
            assertThat(e.reason()).isEqualTo("tab-closed");
            assertThat(e.attempts()).isEqualTo(1);
            assertThat(e.deferred()).contains(true);
            assertThat(e.recovered()).isFalse();
        });
    }

    @Test
    void attempt_should_sayRetry_when_itIsNotTheFirst() {
        transitions.attempt(pending(2, false), "claim-1", Optional.empty());

        assertThat(events).singleElement().isInstanceOfSatisfying(BackstopEvent.AgentSetOffline.class, e -> {
            assertThat(e.reason()).isEqualTo("retry");
            assertThat(e.attempts()).isEqualTo(3);
            assertThat(e.deferred()).isEmpty();
        });
    }

    @Test
    void attempt_should_scheduleARetryWithBackoff_when_connectFailsInAWayWaitingCanFix() {
        connect.putAnswers.add(429);

        OfflineTransitions.Attempt attempt = transitions.attempt(pending(0, false), "claim-1", Optional.empty());

        assertThat(attempt).isEqualTo(new OfflineTransitions.Attempt(OfflineTransitions.Result.RETRY_SCHEDULED, true));
        assertThat(store.writes).singleElement().asString().startsWith("retry attempts=1 error=ThrottlingException (429) next=");
        Instant next = Instant.parse(store.writes.getFirst().replaceAll(".*next=", ""));
        assertThat(next).isAfter(NOW).isBeforeOrEqualTo(NOW.plus(Backoff.DEFAULT.after(1, new Random(7))).plusSeconds(60));
        assertThat(events).isEmpty();
    }

    @Test
    void attempt_should_retryAndNeverFail_when_connectThrottlesTheLastAllowedAttempt() {
        connect.putAnswers.add(429);

        OfflineTransitions.Attempt attempt = transitions.attempt(pending(2, false), "claim-1", Optional.empty());

        assertThat(attempt).as("a busy quota is not this agent's failure").isEqualTo(
                new OfflineTransitions.Attempt(OfflineTransitions.Result.RETRY_SCHEDULED, true));
        assertThat(store.writes).singleElement().asString().startsWith("retry attempts=3 error=ThrottlingException (429)");
        assertThat(events).isEmpty();
    }

    @Test
    void handOver_should_giveTheClaimBackDueNow_withoutCountingAnAttempt() {
        assertThat(transitions.handOver(pending(1, false), "claim-1", "no turn")).isTrue();

        assertThat(store.writes).containsExactly("released at " + NOW, "hand-over counted");
        assertThat(connect.puts).isEmpty();
        assertThat(events).isEmpty();
    }

    @Test
    void handOver_should_countAtMostOnceASecond_perContainer() {
        MovableClock moving = new MovableClock();
        OfflineTransitions container = new OfflineTransitions(store, new ConnectAgentStatus(connect, INSTANCE), events::addAll,
                moving, Backoff.DEFAULT, 3, new Random(7), Set.of());

        container.handOver(pending(0, false), "claim-1", "no turn");
        moving.now = NOW.plusMillis(999);
        container.handOver(pending(0, false), "claim-2", "no turn");
        moving.now = NOW.plusMillis(1_000);
        container.handOver(pending(0, false), "claim-3", "no turn");

        assertThat(store.writes).filteredOn("hand-over counted"::equals).as("the reconciler looks once a second: once a second wakes it")
                .hasSize(2);
    }

    @Test
    void handOver_should_countNothing_when_theClaimWasLost() {
        store.claimLost = true;

        assertThat(transitions.handOver(pending(0, false), "claim-1", "no turn")).isFalse();

        assertThat(store.writes).containsExactly("released at " + NOW);
    }

    @Test
    void handOver_should_stillGiveTheTransitionBack_when_theCountCannotBeWritten() {
        store.countFails = new IllegalStateException("throttled");

        assertThat(transitions.handOver(pending(0, false), "claim-1", "no turn")).as("due all the same: the sweep finds it").isTrue();

        assertThat(store.writes).containsExactly("released at " + NOW);
    }

    static final class MovableClock extends Clock {
        Instant now = NOW;
        @Override public java.time.ZoneId getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    }

    @Test
    void attempt_should_failIntoTheSlowLaneAndPublishFailed_when_attemptsAreUsedUp() {
        connect.putAnswers.add(500);

        OfflineTransitions.Attempt attempt = transitions.attempt(pending(2, false), "claim-1", Optional.empty());

        assertThat(attempt.result()).isEqualTo(OfflineTransitions.Result.FAILED);
        assertThat(store.writes).containsExactly("slow-lane attempts=3 error=InternalServiceException (500) next=+15min landed");
        assertThat(events).singleElement().isInstanceOfSatisfying(BackstopEvent.AgentOfflineFailed.class, e -> {
            assertThat(e.attempts()).isEqualTo(3);
            assertThat(e.lastError()).isEqualTo("InternalServiceException (500)");
        });
    }

    @Test
    void attempt_should_failAtOnce_when_connectRefusesInAWayWaitingCannotFix() {
        connect.putAnswers.add(403);

        assertThat(transitions.attempt(pending(0, false), "claim-1", Optional.empty()).result()).isEqualTo(OfflineTransitions.Result.FAILED);
        assertThat(store.writes).containsExactly("slow-lane attempts=1 error=AccessDeniedException (403) next=+15min");
    }

    @Test
    void slowLane_should_keepTrying_thenGiveUpAfterADay_andSayRecoveredWhenItWorks() {
        connect.putAnswers.add(403);
        assertThat(transitions.attempt(failedAt(NOW.minus(Duration.ofHours(2)), 4), "claim-1", Optional.empty()).result())
                .isEqualTo(OfflineTransitions.Result.STILL_FAILED);
        assertThat(store.writes.getLast()).isEqualTo("slow-lane attempts=5 error=AccessDeniedException (403) next=+15min");

        connect.putAnswers.add(403);
        assertThat(transitions.attempt(failedAt(NOW.minus(Duration.ofHours(24)), 90), "claim-1", Optional.empty()).result())
                .isEqualTo(OfflineTransitions.Result.STILL_FAILED);
        assertThat(store.writes.getLast()).isEqualTo("complete FAILED attempts=91 deferred=false error=AccessDeniedException (403) claim=claim-1");
        assertThat(events).as("no new alarm event from the slow lane").isEmpty();

        assertThat(transitions.attempt(failedAt(NOW.minus(Duration.ofHours(3)), 6), "claim-1", Optional.empty()).result())
                .isEqualTo(OfflineTransitions.Result.DONE);
        assertThat(events).singleElement().isInstanceOfSatisfying(BackstopEvent.AgentSetOffline.class, e -> {
            assertThat(e.recovered()).isTrue();
            assertThat(e.reason()).isEqualTo("retry");
        });
    }

    @Test
    void attempt_should_reportTheClaimLost_andPublishNothing_when_anotherWorkerCompletedIt() {
        store.claimLost = true;

        assertThat(transitions.attempt(pending(0, false), "claim-1", Optional.empty()).result()).isEqualTo(OfflineTransitions.Result.CLAIM_LOST);
        assertThat(events).isEmpty();
        connect.putAnswers.add(500);
        assertThat(transitions.attempt(pending(0, false), "claim-1", Optional.empty()).result()).isEqualTo(OfflineTransitions.Result.CLAIM_LOST);
        connect.putAnswers.add(403);
        assertThat(transitions.attempt(pending(0, false), "claim-1", Optional.empty()).result()).isEqualTo(OfflineTransitions.Result.CLAIM_LOST);
        assertThat(events).isEmpty();
    }

    @Test
    void exemptionCheck_should_endExemptWithoutPut_forASupervisor_andSetOfflineOtherwise_andWaitWhenConnectCannotSay() {
        connect.routingProfiles.put("u-1", "rp-supervisors");
        assertThat(transitions.attempt(pending(0, true), "claim-1", Optional.empty()).result()).isEqualTo(OfflineTransitions.Result.EXEMPT);
        assertThat(connect.puts).isEmpty();
        assertThat(store.writes).containsExactly("complete EXEMPT attempts=0 deferred=false error=- claim=claim-1");

        connect.routingProfiles.put("u-1", "rp-sales");
        assertThat(transitions.attempt(pending(0, true), "claim-1", Optional.empty()).result()).isEqualTo(OfflineTransitions.Result.DONE);
        assertThat(connect.puts).hasSize(1);

        connect.describeAnswer = 429;
        assertThat(transitions.attempt(pending(0, true), "claim-1", Optional.empty()).result())
                .isEqualTo(OfflineTransitions.Result.RETRY_SCHEDULED);
        assertThat(connect.puts).as("never a PutUserStatus on a guess").hasSize(1);

        connect.describeAnswer = null;
        connect.routingProfiles.put("u-1", "rp-supervisors");
        assertThat(transitions.attempt(pending(0, false), "claim-1", Optional.empty()).result())
                .as("no check asked: the session's exemption was known").isEqualTo(OfflineTransitions.Result.DONE);
    }

    @Test
    void notNeeded_should_endTheTransitionWithItsReason_orReportTheClaimLost() {
        assertThat(transitions.notNeeded(pending(1, false), "claim-1", "agent already Offline")).isEqualTo(OfflineTransitions.Result.NOT_NEEDED);
        assertThat(store.writes).containsExactly("complete NOT_NEEDED attempts=1 deferred=false error=agent already Offline claim=claim-1");
        store.claimLost = true;
        assertThat(transitions.notNeeded(pending(1, false), "claim-1", "x")).isEqualTo(OfflineTransitions.Result.CLAIM_LOST);
        assertThat(connect.puts).isEmpty();
    }

    static Transition withLandedCall(Transition t) {
        return new Transition(t.sessionId(), t.agent(), t.reason(), t.state(), t.attempts(), t.created(), t.nextAttemptAt(),
                t.claim(), Optional.of("InternalServiceException (500)"), t.completedAt(), t.deferred(), t.checkExemption(), true);
    }

    final StagingPublisher staging = new StagingPublisher();
    final OfflineTransitions staged = new OfflineTransitions(store, new ConnectAgentStatus(connect, INSTANCE), staging,
            clock, Backoff.DEFAULT, 3, new Random(7), Set.of("rp-supervisors"));

    @Test
    void attempt_should_writeTheEventsRowWithTheOutcome_andPublishOnlyAfter() {
        staged.attempt(pending(0, false), "claim-1", Optional.empty());

        String id = staging.published.getFirst().eventId();
        assertThat(store.writes).containsExactly(
                "complete DONE attempts=1 deferred=false error=- claim=claim-1 with row " + id,
                "publish Agent Set Offline " + id);
    }

    @Test
    void attempt_should_haveWrittenTheEventsRow_when_theProcessStopsBeforeThePublish() {
        staging.stopped = true;

        assertThatThrownBy(() -> staged.attempt(pending(0, false), "claim-1", Optional.empty())).isInstanceOf(ProcessStopped.class);

        assertThat(store.writes).as("the outcome and its event's row, together: the relay finds the row")
                .singleElement().asString().startsWith("complete DONE attempts=1").contains(" with row ");
        assertThat(staging.published).isEmpty();
    }

    @Test
    void failedAttempt_should_writeAgentOfflineFailedsRowWithTheSlowLane_andNoRowForARetry() {
        connect.putAnswers.add(429);
        staged.attempt(pending(0, false), "claim-1", Optional.empty());
        connect.putAnswers.add(403);
        staged.attempt(pending(1, false), "claim-1", Optional.empty());

        String id = staging.published.getFirst().eventId();
        assertThat(staging.published).singleElement().isInstanceOf(BackstopEvent.AgentOfflineFailed.class);
        assertThat(store.writes).hasSize(3);
        assertThat(store.writes.get(0)).doesNotContain("with row");
        assertThat(store.writes.subList(1, 3)).containsExactly(
                "slow-lane attempts=2 error=AccessDeniedException (403) next=+15min with row " + id,
                "publish Agent Offline Failed " + id);
    }

    @Test
    void failedAttempt_should_rememberThatItsCallMayHaveLanded_onlyWhenTheCallWentOutAndItsAnswerWasLost() {
        connect.putAnswers.add(503);
        transitions.attempt(pending(0, false), "claim-1", Optional.empty());
        connect.putAnswers.add(429);
        transitions.attempt(pending(0, false), "claim-1", Optional.empty());
        connect.describeAnswer = 500;
        transitions.attempt(pending(0, true), "claim-1", Optional.empty());

        assertThat(store.writes).extracting(w -> w.replaceAll(" next=.*", "")).containsExactly(
                "retry attempts=1 error=InternalServiceException (503) landed",
                "retry attempts=1 error=ThrottlingException (429)",
                "retry attempts=1 error=InternalServiceException (500)");
        assertThat(connect.puts).as("the exemption check failed before any PutUserStatus").hasSize(2);
    }

    @Test
    void alreadyOffline_should_completeDoneWithAgentSetOffline_when_anEarlierCallMayHaveLanded() {
        assertThat(staged.alreadyOffline(withLandedCall(pending(1, false)), "claim-1")).isEqualTo(OfflineTransitions.Result.DONE);

        assertThat(connect.puts).as("no second PutUserStatus").isEmpty();
        assertThat(staging.published).singleElement().isInstanceOfSatisfying(BackstopEvent.AgentSetOffline.class, e -> {
            assertThat(e.attempts()).as("the attempt that landed").isEqualTo(1);
            assertThat(e.reason()).as("that attempt's reason").isEqualTo("tab-closed");
            assertThat(e.deferred()).isEmpty();
        });
        assertThat(store.writes.getFirst()).startsWith("complete DONE attempts=1 deferred=false error=- claim=claim-1 with row ");
    }

    @Test
    void alreadyOffline_should_endNotNeededWithoutEvent_when_noCallMayHaveLanded() {
        assertThat(staged.alreadyOffline(pending(1, false), "claim-1")).isEqualTo(OfflineTransitions.Result.NOT_NEEDED);

        assertThat(store.writes).containsExactly("complete NOT_NEEDED attempts=1 deferred=false error=agent already Offline claim=claim-1");
        assertThat(staging.published).isEmpty();
    }
}
