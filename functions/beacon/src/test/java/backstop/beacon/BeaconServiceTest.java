package backstop.beacon;

import backstop.core.random.RestoreSafeRandom;
import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;
import backstop.core.config.BackstopConfig;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.events.BackstopEvent;
import backstop.core.http.ApiError;
import backstop.core.session.AgentRecord;
import backstop.core.session.CloseReason;
import backstop.core.session.CloseResult;
import backstop.core.session.Session;
import backstop.core.session.SessionId;
import backstop.core.session.SessionState;
import backstop.core.session.SessionToken;
import backstop.core.transition.Backoff;
import backstop.core.transition.OfflineOutcome;
import backstop.core.transition.OfflineTransitions;
import backstop.core.transition.Transition;
import backstop.core.transition.TransitionReason;
import backstop.core.transition.TransitionState;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The beacon's rules, with a fixed clock and in-memory fakes: no network, no sleeping. */
class BeaconServiceTest {
    static final String INSTANCE = "arn:aws:connect:eu-west-2:123456789012:instance/inst-1";
    static final String AGENT_ARN = INSTANCE + "/agent/user-1";
    static final Instant NOW = Instant.parse("2026-11-25T09:00:00Z");

    FakeStore store;
    FakeConnect connect;
    List<BackstopEvent> events;
    BeaconService service;
    RestoreSafeRandom random = new RestoreSafeRandom();
    final Map<String, Integer> counted = new java.util.TreeMap<>();
    /** Counts what the close path reports, by metric. */
    final backstop.core.metrics.OfflineMetrics metrics = new backstop.core.metrics.OfflineMetrics() {
        @Override public void transitionDone(boolean deferred) { counted.merge("done", 1, Integer::sum); }
        @Override public void transitionNotNeeded() { counted.merge("notNeeded", 1, Integer::sum); }
        @Override public void transitionFailed() { counted.merge("failed", 1, Integer::sum); }
        @Override public void transitionRetryScheduled() { counted.merge("retry", 1, Integer::sum); }
        @Override public void connectThrottled() { counted.merge("throttled", 1, Integer::sum); }
        @Override public void flush() { }
    };

    @BeforeEach
    void wire() {
        wire("restore");
    }

    void wire(String reloadPolicy) {
        BackstopConfig config = BackstopConfig.fromEnvironment(Map.of("AWS_REGION", "eu-west-2",
                "CONNECT_INSTANCE_ARN", INSTANCE, "SESSIONS_TABLE", "t", "EVENT_BUS_NAME", "b",
                "EXEMPT_ROUTING_PROFILE_IDS", "rp-supervisors", "RELOAD_POLICY", reloadPolicy));
        store = new FakeStore();
        connect = new FakeConnect();
        connect.routingProfiles.put("user-1", "rp-sales");
        events = new ArrayList<>();
        Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
        ConnectAgentStatus gateway = new ConnectAgentStatus(connect, config.connectInstance());
        OfflineTransitions transitions = new OfflineTransitions(store, gateway, events::addAll, clock, Backoff.DEFAULT, 8, random);
        service = new BeaconService(config, store, store, gateway, transitions, events::addAll, metrics, clock, random);
    }

    AgentRef agent() {
        return AgentRef.parseArn(AGENT_ARN).orElseThrow();
    }

    @Test
    void register_should_refuseWithoutWriting_when_agentBelongsToAnotherInstance() {
        assertThatThrownBy(() -> service.register("arn:aws:connect:eu-west-2:123456789012:instance/other/agent/user-1", Optional.empty()))
                .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.status()).isEqualTo(403));
        assertThat(store.created).isEmpty();
        assertThat(connect.describes).isEmpty();
    }

    @Test
    void register_should_askConnectForTheProfile_when_neverCheckedOrOlderThan12Hours() {
        store.agents.put(agent(), new AgentRecord(agent(), Set.of(), Optional.of("rp-sales"),
                Optional.of(NOW.minus(Duration.ofHours(13))), Optional.empty()));

        service.register(AGENT_ARN, Optional.empty());

        assertThat(connect.describes).singleElement().satisfies(r -> assertThat(r.userId()).isEqualTo("user-1"));
        assertThat(store.created.getFirst().routingProfileId()).contains("rp-sales");
    }

    @Test
    void register_should_notSpendConnectQuota_when_profileWasCheckedRecently() {
        store.agents.put(agent(), new AgentRecord(agent(), Set.of(), Optional.of("rp-supervisors"),
                Optional.of(NOW.minus(Duration.ofHours(1))), Optional.empty()));

        BeaconService.Registration registration = service.register(AGENT_ARN, Optional.empty());

        assertThat(connect.describes).isEmpty();
        assertThat(store.created.getFirst().exempt()).isTrue();
        assertThat(store.created.getFirst().routingProfileId()).isEmpty();
        assertThat(store.created.getFirst().created()).isEqualTo(NOW);
        assertThat(store.created.getFirst().tokenHash()).isEqualTo(registration.token().hash());
    }

    @Test
    void register_should_refuse_when_connectDoesNotKnowTheUser() {
        connect.routingProfiles.clear();

        assertThatThrownBy(() -> service.register(AGENT_ARN, Optional.empty()))
                .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.code()).isEqualTo("unknown_agent"));
        assertThat(store.created).isEmpty();
    }

    static final AgentStatus AVAILABLE = new AgentStatus("Available", INSTANCE + "/agent-state/available-id");
    static final SessionId CLOSED_TAB = new SessionId("closedTabSession000000");

    /** The agent item as a tab close left it {@code secondsAgo}, its profile checked an hour ago. */
    void lastClose(CloseReason reason, long secondsAgo, boolean setOffline, Optional<AgentStatus> status,
                   Optional<SessionId> restoredBy) {
        store.agents.put(agent(), new AgentRecord(agent(), Set.of(), Optional.of("rp-sales"),
                Optional.of(NOW.minus(Duration.ofHours(1))), Optional.of(new AgentRecord.LastClose(CLOSED_TAB,
                NOW.minusSeconds(secondsAgo), reason, status, setOffline, restoredBy))));
    }

    @Test
    void register_should_offerTheClosedTabsStatusAndPublishRestored_when_reloadedWithinTheWindow() {
        lastClose(CloseReason.TAB_CLOSED, 30, true, Optional.of(AVAILABLE), Optional.empty());

        BeaconService.Registration registration = service.register(AGENT_ARN, Optional.empty());

        assertThat(registration.restore()).contains(AVAILABLE);
        assertThat(store.created.getFirst().restoreOf()).contains(CLOSED_TAB);
        assertThat(events).singleElement().isInstanceOfSatisfying(BackstopEvent.AgentStatusRestored.class, e -> {
            assertThat(e.statusName()).isEqualTo("Available");
            assertThat(e.sessionId()).isEqualTo(registration.sessionId().value());
            assertThat(e.agentArn()).isEqualTo(AGENT_ARN);
        });
        assertThat(connect.puts).as("the page restores with Streams; the server never sets a working status").isEmpty();
    }

    Transition closersTransition(int attempts, TransitionState state) {
        return new Transition(CLOSED_TAB, agent(), TransitionReason.TAB_CLOSED, state, attempts, NOW, NOW.plusSeconds(60),
                Optional.of("closer"), Optional.empty(), Optional.empty(), false);
    }

    @Test
    void register_should_answerTheRestoreOnlyAfterTheClosersOfflineLanded_when_itIsStillInFlight() {
        lastClose(CloseReason.TAB_CLOSED, 1, true, Optional.of(AVAILABLE), Optional.empty());
        store.transitionReads.add(closersTransition(0, TransitionState.PENDING));
        store.transitionReads.add(closersTransition(0, TransitionState.PENDING));
        store.transitionReads.add(closersTransition(1, TransitionState.DONE));

        assertThat(service.register(AGENT_ARN, Optional.empty()).restore()).contains(AVAILABLE);
        assertThat(store.findTransitionCalls).as("read until the closer's PutUserStatus was done").isEqualTo(3);
    }

    @Test
    void register_should_notWait_when_theClosersAttemptAlreadyFailed() {
        lastClose(CloseReason.TAB_CLOSED, 1, true, Optional.of(AVAILABLE), Optional.empty());
        store.transitionReads.add(closersTransition(1, TransitionState.PENDING)); // retry scheduled: nothing in flight

        assertThat(service.register(AGENT_ARN, Optional.empty()).restore()).contains(AVAILABLE);
        assertThat(store.findTransitionCalls).isEqualTo(1);
    }

    @Test
    void register_should_notOfferARestore_when_theCloseWasNotAReloadOfTheLastTab() {
        record Case(String why, CloseReason reason, long secondsAgo, boolean setOffline, Optional<AgentStatus> status,
                    Optional<SessionId> restoredBy) {
        }
        List<Case> cases = List.of(
                new Case("after the window", CloseReason.TAB_CLOSED, 31, true, Optional.of(AVAILABLE), Optional.empty()),
                new Case("stale sweep, not a reload", CloseReason.STALE, 5, true, Optional.of(AVAILABLE), Optional.empty()),
                new Case("logout", CloseReason.LOGOUT, 5, true, Optional.of(AVAILABLE), Optional.empty()),
                new Case("another tab stayed open", CloseReason.TAB_CLOSED, 5, false, Optional.of(AVAILABLE), Optional.empty()),
                new Case("no status in the beacon", CloseReason.TAB_CLOSED, 5, true, Optional.empty(), Optional.empty()),
                new Case("was Offline already", CloseReason.TAB_CLOSED, 5, true,
                        Optional.of(new AgentStatus("Gone", INSTANCE + "/agent-state/offline-id")), Optional.empty()),
                new Case("another page restored it", CloseReason.TAB_CLOSED, 5, true, Optional.of(AVAILABLE),
                        Optional.of(new SessionId("otherPageSession000000"))));
        for (Case c : cases) {
            store.created.clear();
            lastClose(c.reason(), c.secondsAgo(), c.setOffline(), c.status(), c.restoredBy());

            BeaconService.Registration registration = service.register(AGENT_ARN, Optional.empty());

            assertThat(registration.restore()).as(c.why()).isEmpty();
            assertThat(store.created.getFirst().restoreOf()).as(c.why()).isEmpty();
        }
        assertThat(events).isEmpty();
    }

    @Test
    void register_should_notOfferARestore_when_policyIsStayOffline() {
        wire("stay-offline");
        lastClose(CloseReason.TAB_CLOSED, 5, true, Optional.of(AVAILABLE), Optional.empty());

        assertThat(service.register(AGENT_ARN, Optional.empty()).restore()).isEmpty();
        assertThat(events).isEmpty();
    }

    @Test
    void register_should_offerNothingAndPublishNothing_when_anotherPageTookTheRestoreFirst() {
        lastClose(CloseReason.TAB_CLOSED, 5, true, Optional.of(AVAILABLE), Optional.empty());
        store.restoreAvailable = false;

        assertThat(service.register(AGENT_ARN, Optional.empty()).restore()).isEmpty();
        assertThat(events).isEmpty();
    }

    @Test
    void close_should_refuseWithoutClosing_when_tokenIsNotTheSessions() {
        SessionId id = SessionId.random(random);
        store.sessions.put(id, openSession(id, SessionToken.random(random)));

        assertThatThrownBy(() -> service.close(id, SessionToken.random(random), CloseReason.TAB_CLOSED, Optional.empty()))
                .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.status()).isEqualTo(403));
        assertThat(store.closes).isEmpty();
    }

    @Test
    void close_should_putTheOfflineTypeStatusAndPublish_when_lastSessionCloses() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, openSession(id, token));
        store.closeResult = new CloseResult.Closed(OfflineOutcome.PENDING, Optional.of(pending(id)));

        OfflineOutcome outcome = service.close(id, token, CloseReason.TAB_CLOSED, Optional.empty());

        assertThat(outcome).isEqualTo(OfflineOutcome.DONE);
        assertThat(connect.puts).singleElement().satisfies(r -> {
            assertThat(r.userId()).isEqualTo("user-1");
            assertThat(r.instanceId()).isEqualTo("inst-1");
            assertThat(r.agentStatusId()).isEqualTo("offline-id");
        });
        assertThat(store.closes.getFirst().now()).isEqualTo(NOW);
        assertThat(store.closes.getFirst().leaseUntil()).isEqualTo(NOW.plus(BeaconService.CLOSE_LEASE));
        assertThat(store.completed).containsExactly("DONE:" + store.closes.getFirst().claim());
        assertThat(events).singleElement().isInstanceOfSatisfying(BackstopEvent.AgentSetOffline.class, e -> {
            assertThat(e.reason()).isEqualTo("tab-closed");
            assertThat(e.attempts()).isEqualTo(1);
            assertThat(e.at()).isEqualTo(NOW);
            assertThat(e.deferred()).as("the beacon does not know about a live contact").isEmpty();
            assertThat(e.detail()).doesNotContainKey("deferred").doesNotContainKey("recovered");
        });
        assertThat(counted).containsExactly(Map.entry("done", 1));
    }

    @Test
    void close_should_countTheThrottle_andScheduleARetry_when_connectThrottles() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, openSession(id, token));
        store.closeResult = new CloseResult.Closed(OfflineOutcome.PENDING, Optional.of(pending(id)));
        connect.failStatus = 429;

        assertThat(service.close(id, token, CloseReason.TAB_CLOSED, Optional.empty())).isEqualTo(OfflineOutcome.PENDING);
        assertThat(counted).containsExactly(Map.entry("retry", 1), Map.entry("throttled", 1));
    }

    @Test
    void close_should_countTheFailure_andAlarmOnCall_when_connectRefusesForGood() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, openSession(id, token));
        store.closeResult = new CloseResult.Closed(OfflineOutcome.PENDING, Optional.of(pending(id)));
        connect.failStatus = 403;

        assertThat(service.close(id, token, CloseReason.TAB_CLOSED, Optional.empty())).isEqualTo(OfflineOutcome.FAILED);
        assertThat(counted).as("TransitionsFailedAlarm sees the beacon's failures").containsExactly(Map.entry("failed", 1));
        assertThat(events).singleElement().isInstanceOf(BackstopEvent.AgentOfflineFailed.class);
        assertThat(store.completed).as("into the slow lane").containsExactly("FAILED:" + store.closes.getFirst().claim());
    }

    @Test
    void close_should_answerPendingAndScheduleRetry_when_connectFails() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, openSession(id, token));
        store.closeResult = new CloseResult.Closed(OfflineOutcome.PENDING, Optional.of(pending(id)));
        connect.failPuts = true;

        assertThat(service.close(id, token, CloseReason.TAB_CLOSED, Optional.empty())).isEqualTo(OfflineOutcome.PENDING);
        assertThat(store.completed).containsExactly("RETRY:1:InternalServiceException (500)");
        assertThat(events).isEmpty();
    }

    @Test
    void close_should_notCallConnect_when_anotherTabIsOpen() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, openSession(id, token));
        store.closeResult = new CloseResult.Closed(OfflineOutcome.NOT_NEEDED, Optional.empty());

        assertThat(service.close(id, token, CloseReason.TAB_CLOSED, Optional.empty())).isEqualTo(OfflineOutcome.NOT_NEEDED);
        assertThat(connect.puts).isEmpty();
    }

    Session openSession(SessionId id, SessionToken token) {
        return new Session(id, agent(), token.hash(), NOW.minusSeconds(60), NOW.minusSeconds(5), SessionState.OPEN,
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), 3, false);
    }

    Transition pending(SessionId id) {
        return new Transition(id, agent(), TransitionReason.TAB_CLOSED, TransitionState.PENDING, 0, NOW,
                NOW.plus(BeaconService.CLOSE_LEASE), Optional.of("claim"), Optional.empty(), Optional.empty(), false);
    }
}
