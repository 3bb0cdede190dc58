package backstop.beacon;

import backstop.core.random.RestoreSafeRandom;
import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;
import backstop.core.config.BackstopConfig;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.events.BackstopEvent;
import backstop.core.session.AgentRecord;
import backstop.core.session.CloseReason;
import backstop.core.session.CloseResult;
import backstop.core.session.Exemption;
import backstop.core.session.NewSession;
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

/** The beacon's rules, with a fixed clock and in-memory fakes: no network, no sleeping. */
class BeaconServiceTest {
    static final String INSTANCE = "arn:aws:connect:eu-west-2:123456789012:instance/inst-1";
    static final String AGENT_ARN = INSTANCE + "/agent/user-1";
    static final Instant NOW = Instant.parse("2026-11-25T09:00:00Z");
    static final String USERNAME = "ada@example.com";
    /** The claims API Gateway's JWT authorizer hands on for the agent's own token. */
    static final Map<String, String> IDENTITY = Map.of("sub", "00u-ada", "preferred_username", USERNAME);

    FakeStore store;
    FakeConnect connect;
    List<BackstopEvent> events;
    BeaconService service;
    BackstopConfig config;
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
        wire(Map.of("RELOAD_POLICY", reloadPolicy));
    }

    /** The service as BeaconWiring builds it, on fakes, with these variables beside the test's own. */
    void wire(Map<String, String> variables) {
        Map<String, String> env = new java.util.HashMap<>(Map.of("AWS_REGION", "eu-west-2",
                "CONNECT_INSTANCE_ARN", INSTANCE, "SESSIONS_TABLE", "t", "EVENT_BUS_NAME", "b",
                "EXEMPT_ROUTING_PROFILE_IDS", "rp-supervisors", "TAGGED_SESSION_IDS", "on"));
        env.putAll(variables);
        config = BackstopConfig.fromEnvironment(env);
        store = new FakeStore();
        connect = new FakeConnect();
        connect.routingProfiles.put("user-1", "rp-sales");
        connect.usernames.put("user-1", USERNAME);
        events = new ArrayList<>();
        Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
        ConnectAgentStatus gateway = new ConnectAgentStatus(connect, config.connectInstance());
        OfflineTransitions transitions = new OfflineTransitions(store, gateway, events::addAll, clock, Backoff.DEFAULT, 8, random,
                config.exemptRoutingProfileIds());
        service = new BeaconService(config, store, store, gateway, transitions, events::addAll, metrics, clock, random,
                backstop.core.session.SessionIds.withKey(new byte[32], java.time.Instant.MAX, clock));
    }

    AgentRef agent() {
        return AgentRef.parseArn(AGENT_ARN).orElseThrow();
    }

    /** The test's agent registering with these claims, with no status. */
    BeaconService.RegisterAnswer register(Map<String, String> identity) {
        return service.register(identity, agent(), Optional.empty());
    }

    /** As above, which must open a session. */
    BeaconService.Registration registered(Map<String, String> identity) {
        BeaconService.RegisterAnswer answer = register(identity);
        assertThat(answer).isInstanceOf(BeaconService.Registration.class);
        return (BeaconService.Registration) answer;
    }

    static BeaconService.Refused refused(Refusal refusal) {
        return new BeaconService.Refused(refusal);
    }

    /** A tab's close of the session, which must not be refused: what became of the agent's status. */
    OfflineOutcome closed(SessionId id, SessionToken token, Optional<AgentStatus> status) {
        BeaconService.CloseAnswer answer = service.close(id, token, CloseReason.TAB_CLOSED, status);
        assertThat(answer).isInstanceOf(BeaconService.Closed.class);
        return ((BeaconService.Closed) answer).offline();
    }

    @Test
    void register_should_refuseWithoutWriting_when_agentBelongsToAnotherInstance() {
        AgentRef foreign = AgentRef.parseArn("arn:aws:connect:eu-west-2:123456789012:instance/other/agent/user-1").orElseThrow();

        assertThat(service.register(IDENTITY, foreign, Optional.empty())).isEqualTo(refused(Refusal.FOREIGN_INSTANCE));
        assertThat(store.created).isEmpty();
        assertThat(connect.describes).isEmpty();
    }

    @Test
    void register_should_askConnectOnce_when_theAgentWasNeverSeen() {
        registered(IDENTITY);

        assertThat(connect.describes).singleElement().satisfies(r -> assertThat(r.userId()).isEqualTo("user-1"));
        assertThat(store.created.getFirst().checkedUser()).contains(new NewSession.CheckedUser(USERNAME, Optional.of("rp-sales")));
    }

    @Test
    void register_should_notAskConnect_andLeaveTheExemptionToTheOfflinePath_when_theStoredProfileIsOlderThan12Hours() {
        // A Username cannot change once created: the stored one names the agent for good, whatever its age.
        store.agents.put(agent(), new AgentRecord(agent(), Set.of(), Optional.of(USERNAME), Optional.of("rp-sales"),
                Optional.of(NOW.minus(Duration.ofHours(13))), Optional.empty()));

        registered(IDENTITY);

        assertThat(connect.describes).as("no DescribeUser at a shift start").isEmpty();
        assertThat(store.created.getFirst().checkedUser()).isEmpty();
        assertThat(store.created.getFirst().exemption()).isEqualTo(Exemption.UNKNOWN);
    }

    @Test
    void register_should_notSpendConnectQuota_when_profileWasCheckedRecently() {
        store.agents.put(agent(), new AgentRecord(agent(), Set.of(), Optional.of(USERNAME), Optional.of("rp-supervisors"),
                Optional.of(NOW.minus(Duration.ofHours(1))), Optional.empty()));

        BeaconService.Registration registration = registered(IDENTITY);

        assertThat(connect.describes).isEmpty();
        assertThat(store.created.getFirst().exemption()).isEqualTo(Exemption.EXEMPT);
        assertThat(store.created.getFirst().checkedUser()).isEmpty();
        assertThat(store.created.getFirst().created()).isEqualTo(NOW);
        assertThat(store.created.getFirst().tokenHash()).isEqualTo(registration.token().hash());
    }

    @Test
    void register_should_refuse_when_connectDoesNotKnowTheUser() {
        connect.routingProfiles.clear();

        assertThat(register(IDENTITY)).isEqualTo(refused(Refusal.UNKNOWN_AGENT));
        assertThat(store.created).isEmpty();
    }

    @Test
    void register_should_refuseWithoutConnectOrWrites_when_noTokenClaimsReachedTheFunction() {
        assertThat(register(Map.of())).isEqualTo(refused(Refusal.UNAUTHENTICATED));
        assertThat(store.created).isEmpty();
        assertThat(connect.describes).isEmpty();
    }

    @Test
    void register_should_refuseWithoutConnect_when_theTokenLacksTheIdentityClaim() {
        assertThat(register(Map.of("sub", "00u-ada", "email", USERNAME))).isEqualTo(refused(Refusal.IDENTITY_CLAIM_MISSING));
        assertThat(store.created).isEmpty();
        assertThat(connect.describes).isEmpty();
    }

    @Test
    void register_should_refuseWithoutWriting_when_theSignedInUserIsAnotherAgent() {
        assertThat(register(Map.of("preferred_username", "alan@example.com"))).isEqualTo(refused(Refusal.IDENTITY_MISMATCH));
        assertThat(store.created).isEmpty();
        assertThat(connect.describes).as("one DescribeUser to learn the agent's username").hasSize(1);
    }

    @Test
    void register_should_compareUsernamesAsConnectDoes_when_theyDifferOnlyInCaseOrSpace() {
        for (String lookalike : List.of("Ada@example.com", "ADA@EXAMPLE.COM", " ada@example.com", "ada@example.com ")) {
            assertThat(register(Map.of("preferred_username", lookalike))).as(lookalike).isEqualTo(refused(Refusal.IDENTITY_MISMATCH));
        }
        assertThat(store.created).isEmpty();
    }

    @Test
    void register_should_useTheConfiguredClaim_when_anotherIsSet() {
        wire(Map.of("AGENT_IDENTITY_CLAIM", "email"));

        assertThat(register(IDENTITY)).isEqualTo(refused(Refusal.IDENTITY_CLAIM_MISSING));
        registered(Map.of("email", USERNAME, "email_verified", "true", "preferred_username", "someone-else"));
        assertThat(store.created).hasSize(1);
    }

    @Test
    void register_should_refuseAnUnverifiedEmail_withoutConnectOrWrites_when_emailIsTheIdentityClaim() {
        wire(Map.of("AGENT_IDENTITY_CLAIM", "email"));
        // API Gateway hands every claim on as a string: a JSON false arrives as "false", an absent one not at all.
        for (Map<String, String> identity : List.of(Map.of("email", USERNAME, "email_verified", "false"),
                Map.of("email", USERNAME), Map.of("email", USERNAME, "email_verified", "True"),
                Map.of("email", USERNAME, "email_verified", "1"))) {
            assertThat(register(identity)).as(identity.toString()).isEqualTo(refused(Refusal.IDENTITY_CLAIM_UNVERIFIED));
        }
        assertThat(store.created).isEmpty();
        assertThat(connect.describes).isEmpty();
    }

    @Test
    void register_should_notAskForEmailVerified_when_anotherClaimNamesTheAgent() {
        registered(Map.of("preferred_username", USERNAME, "email", USERNAME, "email_verified", "false"));

        assertThat(store.created).hasSize(1);
    }

    @Test
    void register_should_rememberAnUnknownUser_when_connectSaysItHasNone() {
        AgentRef ghost = AgentRef.parseArn(INSTANCE + "/agent/ghost").orElseThrow();
        for (int i = 0; i < 3; i++) {
            assertThat(service.register(Map.of("preferred_username", "ghost"), ghost, Optional.empty()))
                    .isEqualTo(refused(Refusal.UNKNOWN_AGENT));
        }
        assertThat(connect.describes).as("one DescribeUser, then the negative cache answers").hasSize(1);
        assertThat(store.created).isEmpty();
    }

    @Test
    void register_should_refuseAsUnverifiableWithoutWriting_when_connectCannotSayWhoANeverSeenAgentIs() {
        connect.throttleDescribes = true;

        assertThat(register(IDENTITY)).isEqualTo(refused(Refusal.IDENTITY_UNVERIFIABLE));
        assertThat(store.created).isEmpty();
    }

    @Test
    void register_should_checkTheKnownUsernameAndLeaveExemptionUnknown_when_theRefreshIsThrottled() {
        store.agents.put(agent(), new AgentRecord(agent(), Set.of(), Optional.of(USERNAME), Optional.of("rp-sales"),
                Optional.of(NOW.minus(Duration.ofHours(13))), Optional.empty()));
        connect.throttleDescribes = true;

        assertThat(register(Map.of("preferred_username", "alan@example.com"))).isEqualTo(refused(Refusal.IDENTITY_MISMATCH));
        registered(IDENTITY);

        assertThat(store.created).singleElement().satisfies(created -> {
            assertThat(created.exemption()).isEqualTo(Exemption.UNKNOWN);
            assertThat(created.checkedUser()).isEmpty();
        });
    }

    @Test
    void register_should_refuseTellingTheOpenSessions_when_theAgentHasTheMostOpenSessionsAllowed() {
        store.agents.put(agent(), new AgentRecord(agent(), Set.of("s1", "s2", "s3", "s4"), Optional.of(USERNAME),
                Optional.of("rp-sales"), Optional.of(NOW.minus(Duration.ofHours(1))), Optional.empty()));

        assertThat(register(IDENTITY)).isEqualTo(new BeaconService.Refused(Refusal.TOO_MANY_SESSIONS, 4));
        assertThat(store.created).isEmpty();
    }

    @Test
    void close_should_askConnectAndNeverPut_when_exemptionWasUnknownAndTheAgentIsASupervisor() {
        connect.routingProfiles.put("user-1", "rp-supervisors");
        connect.statusIds.put("user-1", "available-id");
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, new Session(id, agent(), token.hash(), NOW.minusSeconds(60), NOW.minusSeconds(5), SessionState.OPEN,
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), 3, Exemption.UNKNOWN));
        Transition unknown = new Transition(id, agent(), TransitionReason.TAB_CLOSED, TransitionState.PENDING, 0, NOW,
                NOW.plus(BeaconService.CLOSE_LEASE), Optional.of("claim"), Optional.empty(), Optional.empty(), false, true);
        store.closeResult = new CloseResult.Closed(OfflineOutcome.PENDING, Optional.of(unknown));

        assertThat(closed(id, token, Optional.empty())).isEqualTo(OfflineOutcome.EXEMPT);
        assertThat(store.closes.getFirst().exemption()).isEqualTo(Exemption.UNKNOWN);
        assertThat(connect.describes).as("the profile comes from GetCurrentUserData, not DescribeUser").isEmpty();
        assertThat(connect.lookups).singleElement().satisfies(r -> assertThat(r.filters().agents()).containsExactly("user-1"));
        assertThat(connect.puts).isEmpty();
        assertThat(store.completed).singleElement().asString().contains("EXEMPT");
    }

    @Test
    void heartbeat_should_refuseBeatsCloserThanAQuarterPeriod_byAskingTheStoreForThatLimit() {
        SessionId id = SessionId.random(random);

        service.heartbeat(id, SessionToken.random(random), Optional.empty());

        assertThat(store.heartbeats).as("a quarter of the default 30 s period").containsExactly(id.value() + " at " + NOW + " notAfter " + NOW.minusMillis(7_500));
    }

    @Test
    void heartbeat_should_countTheAgentsOtherOpenSessions_neverItself() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, openSession(id, token));
        store.agents.put(agent(), new AgentRecord(agent(), Set.of(id.value(), "other-browser", "other-device"), Optional.of(USERNAME),
                Optional.of("rp-sales"), Optional.of(NOW), Optional.empty()));
        assertThat(service.heartbeat(id, token, Optional.empty())).isEqualTo(new BeaconService.Beat(2));

        store.agents.put(agent(), new AgentRecord(agent(), Set.of(id.value()), Optional.of(USERNAME),
                Optional.of("rp-sales"), Optional.of(NOW), Optional.empty()));
        assertThat(service.heartbeat(id, token, Optional.empty())).isEqualTo(new BeaconService.Beat(0));
    }

    @Test
    void heartbeat_should_recordWhenThePageWasLastThrottled_noEarlierThanTheStaleLimit() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, openSession(id, token));
        service.heartbeat(id, token, Optional.empty(), Optional.of(Duration.ofMillis(12_500)));
        service.heartbeat(id, token, Optional.empty(), Optional.of(Duration.ofHours(3))); // a page asleep for hours
        service.heartbeat(id, token, Optional.empty(), Optional.empty());
        assertThat(store.crowded).containsExactly(Optional.of(NOW.minusMillis(12_500)), Optional.of(NOW.minusSeconds(75)),
                Optional.empty());
    }

    /** A session registered {@code age} ago, last seen a beat ago. */
    Session sessionAged(SessionId id, SessionToken token, Duration age) {
        return new Session(id, agent(), token.hash(), NOW.minus(age), NOW.minusSeconds(30), SessionState.OPEN,
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), 1200, Exemption.NOT_EXEMPT);
    }

    @Test
    void heartbeat_should_askTheStoreForTheSessionsAge_withItsOwnPlaceInTheHourBeforeTheMaximum() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, openSession(id, token));

        service.heartbeat(id, token, Optional.empty());

        // Default MAX_SESSION_HOURS 10: a beat counts for a session registered after now - 10 h + its offset.
        backstop.core.session.SessionLifetime lifetime = backstop.core.session.SessionLifetime.ofHours(10);
        assertThat(store.bornAfter).containsExactly(Optional.of(lifetime.bornAfter(id, NOW)));
        assertThat(store.bornAfter.getFirst().get()).isBetween(NOW.minus(Duration.ofHours(10)), NOW.minus(Duration.ofHours(9)));
    }

    @Test
    void heartbeat_should_refuseAsExpired_andCloseTheSessionAsExpired_withoutAnyConnectCall_when_pastItsMaximumAge() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, sessionAged(id, token, Duration.ofHours(10)));
        Transition waiting = new Transition(id, agent(), TransitionReason.SESSION_EXPIRED, TransitionState.PENDING, 0, NOW,
                NOW.plusSeconds(75), Optional.of("nobody"), Optional.empty(), Optional.empty(), false, false);
        store.closeResult = new CloseResult.Closed(OfflineOutcome.PENDING, Optional.of(waiting));

        assertThat(service.heartbeat(id, token, Optional.empty())).isEqualTo(refused(Refusal.SESSION_EXPIRED));

        assertThat(store.closes).singleElement().satisfies(close -> {
            assertThat(close.reason()).isEqualTo(CloseReason.EXPIRED);
            assertThat(close.sessionId()).isEqualTo(id);
            // Its Offline waits a stale limit for the page's new register: nothing is set Offline now.
            assertThat(close.leaseUntil()).isEqualTo(NOW.plusSeconds(75));
            assertThat(close.onlyIfLastSeenBefore()).isEmpty();
        });
        assertThat(store.completed).as("the transition is left to the reconciler").isEmpty();
        assertThat(connect.puts).isEmpty();
        assertThat(connect.describes).isEmpty();
        assertThat(events).isEmpty();
    }

    @Test
    void heartbeat_should_keepTheSessionAlive_when_justBelowItsOwnEnd() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        backstop.core.session.SessionLifetime lifetime = backstop.core.session.SessionLifetime.ofHours(10);
        // Registered so that its own end (10 h less its offset) is a millisecond away.
        Duration age = Duration.between(lifetime.bornAfter(id, NOW), NOW).minusMillis(1);
        assertThat(lifetime.endOf(id, NOW.minus(age))).isEqualTo(NOW.plusMillis(1));
        store.sessions.put(id, sessionAged(id, token, age));

        assertThat(service.heartbeat(id, token, Optional.empty())).isEqualTo(new BeaconService.Beat(0));
        assertThat(store.closes).isEmpty();

        store.sessions.put(id, sessionAged(id, token, age.plusMillis(1)));
        assertThat(service.heartbeat(id, token, Optional.empty())).isEqualTo(refused(Refusal.SESSION_EXPIRED));
    }

    @Test
    void heartbeat_should_stillRefuseAsExpired_when_closingTheExpiredSessionFails() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, sessionAged(id, token, Duration.ofHours(11)));
        java.util.concurrent.atomic.AtomicInteger closes = new java.util.concurrent.atomic.AtomicInteger();
        store.closeFailure = () -> {
            closes.incrementAndGet();
            throw new IllegalStateException("close of session kept conflicting");
        };

        assertThat(service.heartbeat(id, token, Optional.empty())).isEqualTo(refused(Refusal.SESSION_EXPIRED));
        assertThat(closes).hasValue(1);
    }

    @Test
    void register_should_countTheSessionsOpenBeforeIt_asTheOthers() {
        store.agents.put(agent(), new AgentRecord(agent(), Set.of("s1", "s2"), Optional.of(USERNAME),
                Optional.of("rp-sales"), Optional.of(NOW.minus(Duration.ofHours(1))), Optional.empty()));

        assertThat(registered(IDENTITY).otherSessions()).isEqualTo(2);
    }

    @Test
    void close_should_answerExempt_withoutAnAttempt_when_theTransitionWasWrittenExempt() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, openSession(id, token));
        Transition exempt = new Transition(id, agent(), TransitionReason.TAB_CLOSED, TransitionState.EXEMPT, 0, NOW, NOW,
                Optional.empty(), Optional.empty(), Optional.of(NOW), false, false);
        store.closeResult = new CloseResult.Closed(OfflineOutcome.EXEMPT, Optional.of(exempt));

        assertThat(closed(id, token, Optional.empty())).isEqualTo(OfflineOutcome.EXEMPT);
        assertThat(connect.puts).isEmpty();
    }

    @Test
    void repeatedClose_should_answerWhatBecameOfThePendingTransition() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        Session closed = new Session(id, agent(), token.hash(), NOW.minusSeconds(60), NOW.minusSeconds(5), SessionState.CLOSED,
                Optional.of(NOW.minusSeconds(2)), Optional.of(CloseReason.TAB_CLOSED), Optional.empty(), Optional.of(OfflineOutcome.PENDING),
                3, Exemption.NOT_EXEMPT);
        store.sessions.put(id, closed);
        store.closeResult = new CloseResult.AlreadyClosed(closed);
        for (TransitionState state : TransitionState.values()) {
            store.transitionReads.add(new Transition(id, agent(), TransitionReason.TAB_CLOSED, state, 1, NOW, NOW, Optional.empty(),
                    Optional.empty(), Optional.empty(), false, false));

            assertThat(closed(id, token, Optional.empty()).name()).as(state.name()).isEqualTo(state.name());
        }
        assertThat(closed(id, token, Optional.empty())).as("no transition found")
                .isEqualTo(OfflineOutcome.PENDING);
        assertThat(connect.puts).isEmpty();
    }

    static final AgentStatus AVAILABLE = new AgentStatus("Available", INSTANCE + "/agent-state/available-id");
    static final SessionId CLOSED_TAB = new SessionId("closedTabSession000000");

    /** The agent item as a tab close left it {@code secondsAgo}, its profile checked an hour ago. */
    void lastClose(CloseReason reason, long secondsAgo, boolean setOffline, Optional<AgentStatus> status,
                   Optional<SessionId> restoredBy) {
        store.agents.put(agent(), new AgentRecord(agent(), Set.of(), Optional.of(USERNAME), Optional.of("rp-sales"),
                Optional.of(NOW.minus(Duration.ofHours(1))), Optional.of(new AgentRecord.LastClose(CLOSED_TAB,
                NOW.minusSeconds(secondsAgo), reason, status, setOffline, restoredBy))));
    }

    @Test
    void register_should_offerTheClosedTabsStatusAndPublishRestored_when_reloadedWithinTheWindow() {
        lastClose(CloseReason.TAB_CLOSED, 30, true, Optional.of(AVAILABLE), Optional.empty());

        BeaconService.Registration registration = registered(IDENTITY);

        assertThat(registration.restore()).contains(AVAILABLE);
        assertThat(store.created.getFirst().restoreOf()).contains(CLOSED_TAB);
        assertThat(events).singleElement().isInstanceOfSatisfying(BackstopEvent.AgentStatusRestored.class, e -> {
            assertThat(e.statusName()).isEqualTo("Available");
            assertThat(e.sessionId()).isEqualTo(registration.sessionId().value());
            assertThat(e.agentArn()).isEqualTo(AGENT_ARN);
        });
        assertThat(connect.puts).as("the page restores with Streams; the server never sets a working status").isEmpty();
    }

    @Test
    void register_should_offerTheRestore_when_theLastCloseWasARenewedSessionsWhoseTabClosedRightAfter() {
        lastClose(CloseReason.REPLACED, 30, true, Optional.of(AVAILABLE), Optional.empty());

        assertThat(registered(IDENTITY).restore()).contains(AVAILABLE);
    }

    Transition closersTransition(int attempts, TransitionState state) {
        return new Transition(CLOSED_TAB, agent(), TransitionReason.TAB_CLOSED, state, attempts, NOW, NOW.plusSeconds(60),
                Optional.of("closer"), Optional.empty(), Optional.empty(), false, false);
    }

    @Test
    void register_should_answerTheRestoreOnlyAfterTheClosersOfflineLanded_when_itIsStillInFlight() {
        lastClose(CloseReason.TAB_CLOSED, 1, true, Optional.of(AVAILABLE), Optional.empty());
        store.transitionReads.add(closersTransition(0, TransitionState.PENDING));
        store.transitionReads.add(closersTransition(0, TransitionState.PENDING));
        store.transitionReads.add(closersTransition(1, TransitionState.DONE));

        assertThat(registered(IDENTITY).restore()).contains(AVAILABLE);
        assertThat(store.findTransitionCalls).as("read until the closer's PutUserStatus was done").isEqualTo(3);
    }

    @Test
    void register_should_notWait_when_theClosersAttemptAlreadyFailed() {
        lastClose(CloseReason.TAB_CLOSED, 1, true, Optional.of(AVAILABLE), Optional.empty());
        store.transitionReads.add(closersTransition(1, TransitionState.PENDING)); // retry scheduled: nothing in flight

        assertThat(registered(IDENTITY).restore()).contains(AVAILABLE);
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

            BeaconService.Registration registration = registered(IDENTITY);

            assertThat(registration.restore()).as(c.why()).isEmpty();
            assertThat(store.created.getFirst().restoreOf()).as(c.why()).isEmpty();
        }
        assertThat(events).isEmpty();
    }

    @Test
    void register_should_notOfferARestore_when_policyIsStayOffline() {
        wire("stay-offline");
        lastClose(CloseReason.TAB_CLOSED, 5, true, Optional.of(AVAILABLE), Optional.empty());

        assertThat(registered(IDENTITY).restore()).isEmpty();
        assertThat(events).isEmpty();
    }

    @Test
    void register_should_offerNothingAndPublishNothing_when_anotherPageTookTheRestoreFirst() {
        lastClose(CloseReason.TAB_CLOSED, 5, true, Optional.of(AVAILABLE), Optional.empty());
        store.restoreAvailable = false;

        assertThat(registered(IDENTITY).restore()).isEmpty();
        assertThat(events).isEmpty();
    }

    @Test
    void close_should_refuseWithoutClosing_when_tokenIsNotTheSessions() {
        SessionId id = SessionId.random(random);
        store.sessions.put(id, openSession(id, SessionToken.random(random)));

        assertThat(service.close(id, SessionToken.random(random), CloseReason.TAB_CLOSED, Optional.empty()))
                .isEqualTo(refused(Refusal.BAD_TOKEN));
        assertThat(store.closes).isEmpty();
    }

    @Test
    void close_should_putTheOfflineTypeStatusAndPublish_when_lastSessionCloses() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, openSession(id, token));
        store.closeResult = new CloseResult.Closed(OfflineOutcome.PENDING, Optional.of(pending(id)));

        OfflineOutcome outcome = closed(id, token, Optional.empty());

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
    void close_should_notPut_when_theClosingPageReportsTheAgentOffline_asMostDoAtAShiftEnd() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, openSession(id, token));
        store.closeResult = new CloseResult.Closed(OfflineOutcome.PENDING, Optional.of(pending(id)));
        // The instance's OFFLINE-type status is "Gone" (offline-id), by ARN as Streams reports it.
        AgentStatus offline = new AgentStatus("Gone", "arn:aws:connect:us-east-1:123456789012:instance/inst-1/agent-state/offline-id");

        OfflineOutcome outcome = closed(id, token, Optional.of(offline));

        assertThat(outcome).isEqualTo(OfflineOutcome.NOT_NEEDED);
        assertThat(connect.puts).as("no PutUserStatus spent on an agent already Offline").isEmpty();
        assertThat(store.completed).containsExactly("NOT_NEEDED:" + store.closes.getFirst().claim());

        // Another status (by name, without an ARN) is not Offline: the close sets the agent Offline as ever.
        SessionId other = SessionId.random(random);
        store.sessions.put(other, openSession(other, token));
        store.closeResult = new CloseResult.Closed(OfflineOutcome.PENDING, Optional.of(pending(other)));
        assertThat(closed(other, token, Optional.of(new AgentStatus("Available", null))))
                .isEqualTo(OfflineOutcome.DONE);
        assertThat(connect.puts).hasSize(1);
    }

    @Test
    void close_should_handTheTransitionToTheReconciler_withoutAnyConnectCall_when_noPutUserStatusTurnComesInTime() {
        // Every container's calls share one budget: this close's turn would come after the wait.
        backstop.core.connect.ConnectBudget full = new backstop.core.connect.ConnectBudget() {
            @Override
            public boolean acquireWithin(String operation, Duration maxWait) {
                assertThat(maxWait).isPositive().isLessThanOrEqualTo(BeaconService.CLOSE_TURN_WAIT);
                return !operation.equals("PutUserStatus");
            }

            @Override
            public void acquire(String operation) {
            }
        };
        Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
        ConnectAgentStatus gateway = new ConnectAgentStatus(connect, config.connectInstance(), full);
        OfflineTransitions transitions = new OfflineTransitions(store, gateway, events::addAll, clock, Backoff.DEFAULT, 8, random,
                config.exemptRoutingProfileIds());
        service = new BeaconService(config, store, store, gateway, transitions, events::addAll, metrics, clock, random,
                full, new UnknownUsers(clock), backstop.core.session.SessionIds.withKey(new byte[32], java.time.Instant.MAX, clock));
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, openSession(id, token));
        store.closeResult = new CloseResult.Closed(OfflineOutcome.PENDING, Optional.of(pending(id)));

        assertThat(closed(id, token, Optional.of(new AgentStatus("Available", null))))
                .isEqualTo(OfflineOutcome.PENDING);
        assertThat(connect.puts).isEmpty();
        assertThat(store.completed).containsExactly("HANDED_OVER:" + store.closes.getFirst().claim());
        assertThat(events).isEmpty();
    }

    @Test
    void close_should_countTheThrottle_andScheduleARetry_when_connectThrottles() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, openSession(id, token));
        store.closeResult = new CloseResult.Closed(OfflineOutcome.PENDING, Optional.of(pending(id)));
        connect.failStatus = 429;

        assertThat(closed(id, token, Optional.empty())).isEqualTo(OfflineOutcome.PENDING);
        assertThat(counted).containsExactly(Map.entry("retry", 1), Map.entry("throttled", 1));
    }

    @Test
    void close_should_countTheFailure_andAlarmOnCall_when_connectRefusesForGood() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, openSession(id, token));
        store.closeResult = new CloseResult.Closed(OfflineOutcome.PENDING, Optional.of(pending(id)));
        connect.failStatus = 403;

        assertThat(closed(id, token, Optional.empty())).isEqualTo(OfflineOutcome.FAILED);
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

        assertThat(closed(id, token, Optional.empty())).isEqualTo(OfflineOutcome.PENDING);
        assertThat(store.completed).containsExactly("RETRY:1:InternalServiceException (500)");
        assertThat(events).isEmpty();
    }

    @Test
    void close_should_notCallConnect_when_anotherTabIsOpen() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, openSession(id, token));
        store.closeResult = new CloseResult.Closed(OfflineOutcome.NOT_NEEDED, Optional.empty());

        assertThat(closed(id, token, Optional.empty())).isEqualTo(OfflineOutcome.NOT_NEEDED);
        assertThat(connect.puts).isEmpty();
    }

    Session openSession(SessionId id, SessionToken token) {
        return new Session(id, agent(), token.hash(), NOW.minusSeconds(60), NOW.minusSeconds(5), SessionState.OPEN,
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), 3, Exemption.NOT_EXEMPT);
    }

    Transition pending(SessionId id) {
        return new Transition(id, agent(), TransitionReason.TAB_CLOSED, TransitionState.PENDING, 0, NOW,
                NOW.plus(BeaconService.CLOSE_LEASE), Optional.of("claim"), Optional.empty(), Optional.empty(), false, false);
    }

    @Test
    void heartbeat_should_refuseWithTheStoresReason_andCloseNothing_when_theStoreDidNotRecordTheBeat() {
        SessionId id = SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        store.sessions.put(id, openSession(id, token));
        Map<backstop.core.session.HeartbeatResult, Refusal> expected = Map.of(
                backstop.core.session.HeartbeatResult.UNKNOWN_SESSION, Refusal.UNKNOWN_SESSION,
                backstop.core.session.HeartbeatResult.BAD_TOKEN, Refusal.BAD_TOKEN,
                backstop.core.session.HeartbeatResult.SESSION_CLOSED, Refusal.SESSION_CLOSED,
                backstop.core.session.HeartbeatResult.TOO_FREQUENT, Refusal.HEARTBEAT_TOO_FREQUENT);
        expected.forEach((result, refusal) -> {
            store.heartbeatResult = result;

            assertThat(service.heartbeat(id, token, Optional.empty())).as(result.name()).isEqualTo(refused(refusal));
        });
        assertThat(store.closes).as("only an expired session is closed by its beat").isEmpty();
    }

    @Test
    void close_should_refuseAsUnknown_when_anIssuedIdIsNotStored() {
        BeaconService.Registration registration = registered(IDENTITY);
        store.sessions.clear();

        assertThat(service.close(registration.sessionId(), registration.token(), CloseReason.TAB_CLOSED, Optional.empty()))
                .isEqualTo(refused(Refusal.UNKNOWN_SESSION));
        assertThat(store.closes).isEmpty();
    }

    @Test
    void heartbeatAndClose_should_refuseAMadeUpId_asUnknown_withoutTouchingTheTable() {
        byte[] bytes = new byte[24];
        new java.security.SecureRandom().nextBytes(bytes);
        SessionId madeUp = new SessionId(java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
        SessionToken token = SessionToken.random(random);

        assertThat(service.heartbeat(madeUp, token, Optional.empty())).isEqualTo(refused(Refusal.UNKNOWN_SESSION));
        assertThat(service.close(madeUp, token, CloseReason.TAB_CLOSED, Optional.empty())).isEqualTo(refused(Refusal.UNKNOWN_SESSION));
        assertThat(store.heartbeats).as("no conditional write").isEmpty();
        assertThat(store.lookedUp).as("no read").isEmpty();

        BeaconService.Registration registered = registered(IDENTITY);
        assertThat(registered.sessionId().isTagged()).as("what a register issues").isTrue();
        service.heartbeat(registered.sessionId(), registered.token(), Optional.empty());
        assertThat(store.heartbeats).as("an issued id reaches the table").hasSize(1);
    }
}
