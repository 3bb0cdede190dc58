package backstop.beacon;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;
import backstop.core.config.BackstopConfig;
import backstop.core.config.ReloadPolicy;
import backstop.core.events.BackstopEvent;
import backstop.core.events.EventPublisher;
import backstop.core.events.StagedEvent;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.connect.ConnectFailure;
import backstop.core.connect.ConnectBudget;
import backstop.core.connect.ConnectPacer;
import backstop.core.connect.AgentSnapshot;
import backstop.core.session.Exemption;
import backstop.core.session.SessionLimitReached;
import backstop.core.random.RestoreSafeRandom;
import backstop.core.session.AgentRecord;
import backstop.core.session.CloseReason;
import backstop.core.session.CloseRequest;
import backstop.core.session.CloseResult;
import backstop.core.session.Heartbeat;
import backstop.core.session.NewSession;
import backstop.core.session.Session;
import backstop.core.session.SessionId;
import backstop.core.session.SessionIds;
import backstop.core.session.SessionLifetime;
import backstop.core.metrics.OfflineMetrics;
import backstop.core.session.SessionStore;
import backstop.core.transition.TransitionStore;
import backstop.core.session.SessionToken;
import backstop.core.transition.OfflineOutcome;
import backstop.core.transition.OfflineTransitions;
import backstop.core.transition.Transition;
import backstop.core.transition.TransitionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * The rules of the three routes: who may register, what a heartbeat may touch (DynamoDB only, never Connect),
 * and when a close sets the agent Offline (when no other session of theirs is open and they are not exempt).
 */
public final class BeaconService {
    private static final Logger LOG = LoggerFactory.getLogger(BeaconService.class);
    /**
     * A routing profile stored this long ago still decides the exemption at register; an older one leaves it
     * UNKNOWN, decided when the agent is set Offline from GetCurrentUserData (100 agents a call), never from a
     * DescribeUser per register.
     */
    static final Duration PROFILE_MAX_AGE = Duration.ofHours(12);
    /** The closer works on the new transition at once; the reconciler takes over only after this lease. */
    static final Duration CLOSE_LEASE = Duration.ofSeconds(60);
    /** How long a restoring register waits for the closed tab's Offline to land (see awaitOffline). */
    static final Duration RESTORE_WAIT = Duration.ofSeconds(3);
    static final String DESCRIBE_USER = "DescribeUser";
    /**
     * The longest a first-ever register waits for its DescribeUser turn in the stack's shared budget; then it goes
     * on as if Connect throttled it (503). 1,000 new agents in 15 minutes need 1.1 turns/s of the 1.5/s.
     */
    static final Duration DESCRIBE_WAIT = Duration.ofSeconds(10);
    /**
     * The longest a close waits for its turns in the shared budget, all together (GetCurrentUserData, PutUserStatus);
     * a later turn is left to the reconciler, which paces the backlog under the same budget. With the close's usual
     * worst case of calls (ClientPolicies.worstCaseClose, 19 s) and the turn's UpdateItem (2.5 s), 24.5 s: under the
     * function's 25 s timeout.
     */
    static final Duration CLOSE_TURN_WAIT = Duration.ofSeconds(3);

    private final BackstopConfig config;
    private final SessionStore store;
    private final TransitionStore transitionStore;
    private final OfflineMetrics metrics;
    private final ConnectAgentStatus connect;
    private final OfflineTransitions transitions;
    private final EventPublisher events;
    private final Clock clock;
    private final RestoreSafeRandom random;
    private final ConnectBudget describePacer;
    private final UnknownUsers unknownUsers;
    private final SessionIds ids;
    private final SessionLifetime lifetime;

    public BeaconService(BackstopConfig config, SessionStore store, TransitionStore transitionStore, ConnectAgentStatus connect,
                         OfflineTransitions transitions, EventPublisher events, OfflineMetrics metrics, Clock clock,
                         RestoreSafeRandom random, SessionIds ids) {
        this(config, store, transitionStore, connect, transitions, events, metrics, clock, random,
                new ConnectPacer(config.connectRatePerSecond()), new UnknownUsers(clock), ids);
    }

    public BeaconService(BackstopConfig config, SessionStore store, TransitionStore transitionStore, ConnectAgentStatus connect,
                         OfflineTransitions transitions, EventPublisher events, OfflineMetrics metrics, Clock clock,
                         RestoreSafeRandom random, ConnectBudget describePacer, UnknownUsers unknownUsers, SessionIds ids) {
        this.ids = ids;
        this.lifetime = config.sessionLifetime();
        this.describePacer = describePacer;
        this.unknownUsers = unknownUsers;
        this.metrics = metrics;
        this.config = config;
        this.store = store;
        this.transitionStore = transitionStore;
        this.connect = connect;
        this.transitions = transitions;
        this.events = events;
        this.clock = clock;
        this.random = random;
    }

    /** An id this backstop never issued is refused as unknown before any DynamoDB call (a flood costs nothing). */
    private boolean madeUp(SessionId id) {
        return !ids.mayExist(id);
    }

    /** What a register answers: the new session, or why none opened. */
    public sealed interface RegisterAnswer permits Registration, Refused {
    }

    /** What a heartbeat answers: the beat recorded, or why not. */
    public sealed interface HeartbeatAnswer permits Beat, Refused {
    }

    /** What a close answers: what became of the agent's status, or why the session was not closed. */
    public sealed interface CloseAnswer permits Closed, Refused {
    }

    /**
     * A request refused, nothing written for it (but an expired session's close, {@link Refusal#SESSION_EXPIRED}).
     *
     * @param openSessions with {@link Refusal#TOO_MANY_SESSIONS}, how many sessions the agent has open; 0 otherwise
     */
    public record Refused(Refusal refusal, int openSessions) implements RegisterAnswer, HeartbeatAnswer, CloseAnswer {
        public Refused {
            java.util.Objects.requireNonNull(refusal, "refusal");
        }

        Refused(Refusal refusal) {
            this(refusal, 0);
        }
    }

    /** A heartbeat recorded; {@code otherSessions}: the agent's open sessions but this one. */
    public record Beat(int otherSessions) implements HeartbeatAnswer {
    }

    /** A session closed (now or before); {@code offline}: what became, or is becoming, of the agent's status. */
    public record Closed(OfflineOutcome offline) implements CloseAnswer {
    }

    /**
     * What the page gets back from registering.
     *
     * @param otherSessions the agent's other open sessions when this one opened (other tabs, browsers, devices):
     *                      while there are any, the page leaves Offline to the server
     * @param expiresAt     when the session reaches its maximum age ({@link SessionLifetime#endOf}): the page registers
     *                      its next session ahead of it, while its sign-in can still be renewed
     */
    public record Registration(SessionId sessionId, SessionToken token, int heartbeatSeconds, int staleAfterSeconds,
                               Optional<AgentStatus> restore, int otherSessions, Instant expiresAt) implements RegisterAnswer {
    }

    /**
     * Opens a session for the agent the signed-in caller is. {@code identity} holds the claims of the token API
     * Gateway's JWT authorizer already validated (signature, issuer, audience, expiry); here the configured claim
     * must equal the Username Connect reports for the user in the ARN, compared as Connect compares usernames:
     * exactly, case included ("All Amazon Connect usernames are case sensitive, even when using SAML").
     */
    public RegisterAnswer register(Map<String, String> identity, AgentRef agent, Optional<AgentStatus> status) {
        if (identity.isEmpty()) {
            // API Gateway's authorizer answers 401 before the function runs; this is the second lock on the door.
            return new Refused(Refusal.UNAUTHENTICATED);
        }
        if (!agent.instance().equals(config.connectInstance())) {
            return new Refused(Refusal.FOREIGN_INSTANCE);
        }
        String presented = identity.get(config.agentIdentityClaim());
        if (presented == null || presented.isEmpty()) {
            return new Refused(Refusal.IDENTITY_CLAIM_MISSING);
        }
        if (BackstopConfig.EMAIL_CLAIM.equals(config.agentIdentityClaim()) && !"true".equals(identity.get("email_verified"))) {
            // An e-mail the provider did not verify is whatever the user typed (an Entra guest's, a self-service
            // sign-up's): it names nobody. API Gateway hands claims on as strings, so a verified one is "true".
            return new Refused(Refusal.IDENTITY_CLAIM_UNVERIFIED);
        }
        if (unknownUsers.contains(agent.userId())) {
            return new Refused(Refusal.UNKNOWN_AGENT);
        }
        Instant now = clock.instant();
        Optional<AgentRecord> known = store.findAgent(agent);
        // A Connect user's Username cannot be changed after it is created (Connect's UpdateUserIdentityInfo and the
        // admin guide): once stored it is known for good, and only an agent's first-ever register asks Connect.
        Optional<String> stored = known.flatMap(AgentRecord::username);
        Optional<NewSession.CheckedUser> checked = Optional.empty();
        if (stored.isEmpty()) {
            switch (describe(agent)) {
                case Described.User user -> checked = Optional.of(user.checked());
                case Described.NoSuchUser _ -> {
                    return new Refused(Refusal.UNKNOWN_AGENT);
                }
                case Described.NotAsked _ -> {
                    // Connect could not be asked and this agent was never seen: who they are cannot be checked now.
                    return new Refused(Refusal.IDENTITY_UNVERIFIABLE);
                }
            }
        }
        // Stored or just described: a register with neither was answered above.
        String username = checked.map(NewSession.CheckedUser::username).or(() -> stored).orElseThrow();
        if (!username.equals(presented)) {
            LOG.warn("register refused: the token's {} does not name agent {}", config.agentIdentityClaim(), agent.userId());
            return new Refused(Refusal.IDENTITY_MISMATCH);
        }
        Exemption exemption = exemption(checked, known, now);
        // Tagged ids only once every version that may run reads them (TAGGED_SESSION_IDS; README, Deploying).
        SessionId id = config.taggedSessionIds() ? ids.issue() : SessionId.random(random);
        SessionToken token = SessionToken.random(random);
        Optional<AgentRecord.LastClose> restorable = known.flatMap(AgentRecord::lastClose).filter(last -> restorable(last, now));
        // Staged before the write: its outbox row goes in the transaction that takes the restore (no event lost).
        Optional<StagedEvent> restored = restorable.flatMap(AgentRecord.LastClose::status)
                .map(r -> events.stage(new BackstopEvent.AgentStatusRestored(agent.arn(), r.name(), id.value(), now)));
        boolean restoring;
        try {
            restoring = store.createSession(new NewSession(id, agent, token.hash(), now, status, checked, exemption,
                    restorable.map(AgentRecord.LastClose::sessionId), config.maxSessionsPerAgent(),
                    restored.flatMap(StagedEvent::row)));
        } catch (SessionLimitReached limit) {
            return new Refused(Refusal.TOO_MANY_SESSIONS, limit.open());
        }
        Optional<AgentStatus> restore = restoring ? restorable.flatMap(AgentRecord.LastClose::status) : Optional.empty();
        if (restore.isPresent()) {
            awaitOffline(restorable.get().sessionId());
        }
        LOG.info("session {} registered for agent {}{}{}", id, agent.userId(),
                exemption == Exemption.EXEMPT ? " (exempt)" : exemption == Exemption.UNKNOWN ? " (exemption unknown)" : "",
                restore.isPresent() ? " (restore offered)" : "");
        if (restore.isPresent()) {
            events.publishStagedRecorded(restored.orElseThrow());
        }
        int others = known.map(a -> a.openSessions().size()).orElse(0);
        return new Registration(id, token, config.heartbeatSeconds(), config.staleAfterSeconds(), restore, others,
                lifetime.endOf(id, now));
    }

    /**
     * Whether the agent's routing profile exempts them, as far as is known without asking Connect: none is
     * exempt when no profile is configured; a profile just described or stored within {@link #PROFILE_MAX_AGE}
     * decides; an older one is not knowledge, so UNKNOWN (the Offline path reads the profile then, fail-safe).
     */
    private Exemption exemption(Optional<NewSession.CheckedUser> checked, Optional<AgentRecord> known, Instant now) {
        if (config.exemptRoutingProfileIds().isEmpty()) {
            return Exemption.NOT_EXEMPT;
        }
        if (checked.isPresent()) {
            return Exemption.of(checked.get().routingProfileId().filter(config.exemptRoutingProfileIds()::contains).isPresent());
        }
        boolean fresh = known.flatMap(AgentRecord::profileCheckedAt).filter(at -> !at.plus(PROFILE_MAX_AGE).isBefore(now)).isPresent();
        return fresh ? Exemption.of(known.flatMap(AgentRecord::routingProfileId).filter(config.exemptRoutingProfileIds()::contains).isPresent())
                : Exemption.UNKNOWN;
    }

    /** What DescribeUser said of an agent never seen before. */
    private sealed interface Described {
        /** Connect knows the user: their username and routing profile. */
        record User(NewSession.CheckedUser checked) implements Described {
        }

        /** Connect has no such user (remembered, so repeating it costs no call). */
        record NoSuchUser() implements Described {
        }

        /** Connect could not be asked (no turn in time, throttled, unavailable). */
        record NotAsked() implements Described {
        }
    }

    /**
     * DescribeUser, paced within its quota across every container (the stack's shared budget) (a burst of registers waits its turn up to
     * {@link #DESCRIBE_WAIT}); a user Connect does not know is remembered, so repeating it costs no call.
     */
    private Described describe(AgentRef agent) {
        try {
            if (!describePacer.acquireWithin(DESCRIBE_USER, DESCRIBE_WAIT)) {
                LOG.warn("agent {} not looked up: no DescribeUser turn within {} s", agent.userId(), DESCRIBE_WAIT.toSeconds());
                return new Described.NotAsked();
            }
            // The turn is taken: the gateway must not take a second one (that would halve DescribeUser's pace).
            Optional<ConnectAgentStatus.ConnectUser> user = connect.describeUserOnTurn(agent.userId());
            if (user.isEmpty()) {
                unknownUsers.add(agent.userId());
                return new Described.NoSuchUser();
            }
            return new Described.User(new NewSession.CheckedUser(user.get().username(), user.get().routingProfileId()));
        } catch (ConnectFailure failure) {
            LOG.warn("agent {} not looked up in Connect: {}", agent.userId(), failure.code());
            return new Described.NotAsked();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Described.NotAsked();
        }
    }

    /**
     * The closed tab's beacon may still be setting the agent Offline (its transition PENDING under the closer's
     * claim): a restore answered now could be undone by that PutUserStatus landing after it. Wait (bounded) for
     * the transition to end; a transition left for the reconciler is dropped by it (the agent has a session again).
     */
    private void awaitOffline(SessionId closed) {
        Instant giveUp = clock.instant().plus(RESTORE_WAIT);
        // PENDING with no attempt recorded: the closer's first PutUserStatus is in flight. (After a failed attempt
        // nothing is in flight, and the reconciler will find the agent's new session and drop the transition.)
        while (transitionStore.findTransition(closed).filter(t -> t.state() == TransitionState.PENDING && t.attempts() == 0).isPresent()
                && clock.instant().isBefore(giveUp)) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * A reload: the agent's last tab closed (a beacon, not a stale sweep or logout) within RELOAD_WINDOW_SECONDS,
     * that close set them Offline, it carried a status that is not Offline itself, and no page restored it yet.
     */
    private boolean restorable(AgentRecord.LastClose last, Instant now) {
        // A renewed session's close that turned out the last (the tab closed just after the renewal) is a tab's close.
        boolean tabClosed = last.reason() == CloseReason.TAB_CLOSED || last.reason() == CloseReason.REPLACED;
        if (config.reloadPolicy() != ReloadPolicy.RESTORE || !tabClosed
                || !last.setOffline() || last.restoredBy().isPresent() || last.status().isEmpty()
                || last.at().plusSeconds(config.reloadWindowSeconds()).isBefore(now)) {
            return false;
        }
        try {
            return !connect.isOffline(last.status().get());
        } catch (ConnectFailure failure) {
            // Not knowing the Offline status must not cost the restore: the page restores only onto Offline.
            return true;
        }
    }

    /**
     * Keeps a session alive and answers how many other sessions the agent has open (any tab, browser or device),
     * so the page knows whether closing it will leave the agent's status to another CCP.
     */
    public HeartbeatAnswer heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status) {
        return heartbeat(id, token, status, Optional.empty());
    }

    /**
     * As above; {@code crowdedAgo}: how long ago the page was last throttled (429) since its previous beat landed,
     * by its own clock (the brake's flood signal; a time no earlier than the stale limit, as older says nothing).
     */
    public HeartbeatAnswer heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status, Optional<Duration> crowdedAgo) {
        if (madeUp(id)) {
            return new Refused(Refusal.UNKNOWN_SESSION);
        }
        Instant now = clock.instant();
        Duration staleAfter = Duration.ofSeconds(config.staleAfterSeconds());
        Optional<Instant> crowdedAt = crowdedAgo.map(ago -> now.minus(ago.compareTo(staleAfter) > 0 ? staleAfter : ago));
        // A page beats every heartbeatSeconds; a quarter of that is the closest two beats may come (a reloaded
        // worker, a retry). Faster is a flood: refused without a write.
        Instant notAfter = now.minusMillis(config.heartbeatSeconds() * 250L);
        Heartbeat beat = store.heartbeat(id, token, status, now, Optional.of(notAfter), crowdedAt,
                Optional.of(lifetime.bornAfter(id, now)));
        return switch (beat.result()) {
            case RECORDED -> new Beat(beat.agent().map(store::openSessionIds)
                    .map(open -> (int) open.stream().filter(other -> !other.equals(id.value())).count()).orElse(0));
            case UNKNOWN_SESSION -> new Refused(Refusal.UNKNOWN_SESSION);
            case BAD_TOKEN -> new Refused(Refusal.BAD_TOKEN);
            case SESSION_CLOSED -> new Refused(Refusal.SESSION_CLOSED);
            case TOO_FREQUENT -> new Refused(Refusal.HEARTBEAT_TOO_FREQUENT);
            case EXPIRED -> {
                closeExpired(id, now);
                yield new Refused(Refusal.SESSION_EXPIRED);
            }
        };
    }

    /**
     * Closes a session past its maximum age as its page is told so, without a Connect call: its place under the
     * agent's session cap is free for the page's new register (which comes at once), and the page's new session
     * counts none for it. When it was the agent's last open session, its Offline transition waits a stale limit
     * (a lease nobody holds) for that register: then the reconciler finds the agent working in the new session and
     * drops it (NOT_NEEDED, no Connect call); with no new register (a crashed tab whose token someone else kept
     * beating, an agent who could not sign in again) it sets them Offline, reason {@code session-expired}.
     * A failure here is logged, not answered: the beats are refused all the same, so the session goes stale and
     * the reconciler's stale close does the same later.
     */
    private void closeExpired(SessionId id, Instant now) {
        try {
            store.findSession(id).filter(Session::isOpen).ifPresent(session -> {
                store.close(session, new CloseRequest(id, CloseReason.EXPIRED, Optional.empty(), now, session.exemption(),
                        random.claim(), now.plusSeconds(config.staleAfterSeconds()), Optional.empty()));
                LOG.info("session {} of agent {} closed: past its maximum age ({} h)", id, session.agent().userId(),
                        config.maxSessionHours());
            });
        } catch (RuntimeException e) {
            LOG.warn("session {} past its maximum age not closed now ({}); the stale sweep will", id, e.toString());
        }
    }

    public CloseAnswer close(SessionId id, SessionToken token, CloseReason reason, Optional<AgentStatus> status) {
        if (madeUp(id)) {
            return new Refused(Refusal.UNKNOWN_SESSION);
        }
        Optional<Session> found = store.findSession(id);
        if (found.isEmpty()) {
            return new Refused(Refusal.UNKNOWN_SESSION);
        }
        Session session = found.get();
        if (!token.matches(session.tokenHash())) {
            return new Refused(Refusal.BAD_TOKEN);
        }
        return new Closed(closeSession(id, session, reason, status));
    }

    /** The token matched: closes the session and answers what became, or is becoming, of the agent's status. */
    private OfflineOutcome closeSession(SessionId id, Session session, CloseReason reason, Optional<AgentStatus> status) {
        Instant now = clock.instant();
        String claim = random.claim();
        CloseResult result = store.close(session, new CloseRequest(id, reason, status, now, session.exemption(), claim,
                now.plus(CLOSE_LEASE), Optional.empty()));
        return switch (result) {
            case CloseResult.Closed closed -> closed.transition()
                    .filter(t -> t.state() == TransitionState.PENDING)
                    .map(t -> reportedOffline(status) ? alreadyOffline(t, claim) : setOfflineNow(t, claim))
                    .orElse(closed.outcome());
            case CloseResult.AlreadyClosed already -> outcomeOf(already.session());
            case CloseResult.StillAlive alive -> throw new IllegalStateException("a beacon close has no staleness condition");
        };
    }

    /**
     * Whether the closing page said its agent is Offline already (the status Streams showed it): at a shift end most
     * agents set themselves Offline before they close the tab, and a PutUserStatus for each would spend the account's
     * shared Connect quota (2/s) on nothing. Not knowing the Offline status counts as not Offline.
     */
    private boolean reportedOffline(Optional<AgentStatus> status) {
        try {
            return status.isPresent() && connect.isOffline(status.get());
        } catch (ConnectFailure failure) {
            return false;
        }
    }

    private OfflineOutcome alreadyOffline(Transition transition, String claim) {
        return switch (transitions.notNeeded(transition, claim, "the closing page reported the agent Offline")) {
            case NOT_NEEDED -> OfflineOutcome.NOT_NEEDED;
            default -> OfflineOutcome.PENDING; // another worker holds it: it decides
        };
    }

    /**
     * One attempt within the stack's shared Connect budget, or the transition handed to the reconciler (due now,
     * no attempt counted) when no turn comes within {@link #CLOSE_TURN_WAIT}: every container's calls together stay
     * under the configured share of the account's quota, and a busy quota never turns into a FAILED.
     */
    private OfflineOutcome setOfflineNow(Transition transition, String claim) {
        // Turns are timed on the wall clock (the budget's), not the service's clock, which tests move.
        long giveUpAt = System.nanoTime() + CLOSE_TURN_WAIT.toNanos();
        Optional<String> profileNow = Optional.empty();
        Optional<Boolean> deferred = Optional.empty();
        if (transition.checkExemption()) {
            // The session does not know whether the agent is exempt: one GetCurrentUserData (its own quota) says that
            // and whether they are Offline already, so no PutUserStatus is spent on an agent already Offline.
            try {
                Optional<AgentSnapshot> snapshot = connect.currentDataWithin(transition.agent().userId(),
                        Duration.ofNanos(giveUpAt - System.nanoTime()));
                if (snapshot.isPresent() && connect.isOfflineOrQueued(snapshot.get())) {
                    return outcome(new OfflineTransitions.Attempt(transitions.alreadyOffline(transition, claim), false));
                }
                profileNow = snapshot.flatMap(AgentSnapshot::routingProfileId);
                deferred = snapshot.map(AgentSnapshot::onContact);
            } catch (ConnectFailure failure) {
                return handOver(transition, claim, "GetCurrentUserData: " + failure.code());
            }
            if (profileNow.isEmpty()) {
                return handOver(transition, claim, "routing profile not reported by GetCurrentUserData");
            }
        }
        try {
            if (!connect.turnToSetOffline(Duration.ofNanos(giveUpAt - System.nanoTime()))) {
                return handOver(transition, claim, "no PutUserStatus turn within " + CLOSE_TURN_WAIT.toSeconds() + " s of the close");
            }
        } catch (ConnectFailure interrupted) {
            return handOver(transition, claim, interrupted.code());
        }
        return outcome(transitions.attempt(transition, claim, deferred, profileNow));
    }

    private OfflineOutcome handOver(Transition transition, String claim, String why) {
        transitions.handOver(transition, claim, why);
        return OfflineOutcome.PENDING;
    }

    private OfflineOutcome outcome(OfflineTransitions.Attempt attempt) {
        metrics.count(attempt, false);
        return switch (attempt.result()) {
            case DONE -> OfflineOutcome.DONE;
            case FAILED, STILL_FAILED -> OfflineOutcome.FAILED;
            case NOT_NEEDED -> OfflineOutcome.NOT_NEEDED;
            case EXEMPT -> OfflineOutcome.EXEMPT;
            case RETRY_SCHEDULED, CLAIM_LOST -> OfflineOutcome.PENDING;
        };
    }

    /** A repeated close answers what the first one decided, updated by what became of its transition. */
    private OfflineOutcome outcomeOf(Session session) {
        OfflineOutcome recorded = session.closeOutcome().orElse(OfflineOutcome.NOT_NEEDED);
        if (recorded != OfflineOutcome.PENDING) {
            return recorded;
        }
        return transitionStore.findTransition(session.id()).map(t -> switch (t.state()) {
            case DONE -> OfflineOutcome.DONE;
            case NOT_NEEDED -> OfflineOutcome.NOT_NEEDED;
            case EXEMPT -> OfflineOutcome.EXEMPT;
            case FAILED -> OfflineOutcome.FAILED;
            case PENDING -> OfflineOutcome.PENDING;
        }).orElse(recorded);
    }
}
