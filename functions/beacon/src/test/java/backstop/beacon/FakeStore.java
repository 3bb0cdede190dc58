package backstop.beacon;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;
import backstop.core.session.AgentRecord;
import backstop.core.session.CloseRequest;
import backstop.core.session.CloseResult;
import backstop.core.session.Heartbeat;
import backstop.core.session.HeartbeatResult;
import backstop.core.session.NewSession;
import backstop.core.session.Session;
import backstop.core.session.SessionId;
import backstop.core.session.SessionStore;
import backstop.core.transition.TransitionStore;
import backstop.core.session.SessionToken;
import backstop.core.transition.Transition;
import backstop.core.transition.TransitionState;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A scripted SessionStore for the service's unit tests (the DynamoDB store has its own integration tests). */
final class FakeStore implements SessionStore, TransitionStore {
    final List<NewSession> created = new ArrayList<>();
    final List<CloseRequest> closes = new ArrayList<>();
    final List<String> completed = new ArrayList<>();
    final Map<AgentRef, AgentRecord> agents = new HashMap<>();
    final Map<SessionId, Session> sessions = new HashMap<>();
    CloseResult closeResult;
    /** When set, each close runs it first (a failure to throw). */
    Runnable closeFailure;
    /** Whether a register that asks for the restore gets it (false: another page took it first). */
    boolean restoreAvailable = true;
    HeartbeatResult heartbeatResult = HeartbeatResult.RECORDED;
    /** Each heartbeat asked of the store: session, when, and the flood limit it was given. */
    final List<String> heartbeats = new ArrayList<>();

    @Override
    public boolean createSession(NewSession session) {
        int open = Optional.ofNullable(agents.get(session.agent())).map(a -> a.openSessions().size()).orElse(0);
        if (open >= session.maxOpenSessions()) {
            throw new backstop.core.session.SessionLimitReached(open);
        }
        created.add(session);
        return session.restoreOf().isPresent() && restoreAvailable;
    }
    /** Every session looked up, by id. */
    final List<String> lookedUp = new ArrayList<>();

    @Override public Optional<Session> findSession(SessionId id) {
        lookedUp.add(id.value());
        return Optional.ofNullable(sessions.get(id));
    }
    @Override public Optional<AgentRecord> findAgent(AgentRef agent) { return Optional.ofNullable(agents.get(agent)); }

    @Override
    public Heartbeat heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status, Instant now,
                               Optional<Instant> notAfterLastSeen) {
        heartbeats.add(id.value() + " at " + now + " notAfter " + notAfterLastSeen.map(Instant::toString).orElse("-"));
        return heartbeatResult == HeartbeatResult.RECORDED
                ? new Heartbeat(heartbeatResult, Optional.ofNullable(sessions.get(id)).map(Session::agent))
                : Heartbeat.refused(heartbeatResult);
    }

    /** The crowdedAt each heartbeat recorded. */
    final List<Optional<Instant>> crowded = new java.util.ArrayList<>();

    @Override
    public Heartbeat heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status, Instant now,
                               Optional<Instant> notAfterLastSeen, Optional<Instant> crowdedAt) {
        crowded.add(crowdedAt);
        return heartbeat(id, token, status, now, notAfterLastSeen);
    }

    /** The birth limit each heartbeat was given (the session's age check). */
    final List<Optional<Instant>> bornAfter = new ArrayList<>();

    /** As the DynamoDB store: a session created at or before {@code bornAfter} is EXPIRED, nothing written. */
    @Override
    public Heartbeat heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status, Instant now,
                               Optional<Instant> notAfterLastSeen, Optional<Instant> crowdedAt, Optional<Instant> born) {
        bornAfter.add(born);
        Session session = sessions.get(id);
        if (heartbeatResult == HeartbeatResult.RECORDED && session != null && session.isOpen() && born.isPresent()
                && !session.created().isAfter(born.get())) {
            return Heartbeat.refused(HeartbeatResult.EXPIRED);
        }
        return heartbeat(id, token, status, now, notAfterLastSeen, crowdedAt);
    }

    @Override
    public java.util.Set<String> openSessionIds(AgentRef agent) {
        return Optional.ofNullable(agents.get(agent)).map(AgentRecord::openSessions).orElse(java.util.Set.of());
    }

    @Override
    public CloseResult close(Session current, CloseRequest request) {
        closes.add(request);
        if (closeFailure != null) {
            closeFailure.run();
        }
        return closeResult;
    }

    /** What successive findTransition calls answer (empty once used up); each call is counted. */
    final java.util.ArrayDeque<Transition> transitionReads = new java.util.ArrayDeque<>();
    int findTransitionCalls;

    @Override
    public Optional<Transition> findTransition(SessionId id) {
        findTransitionCalls++;
        return Optional.ofNullable(transitionReads.poll());
    }
    @Override public Map<AgentRef, AgentRecord> findAgents(java.util.Collection<AgentRef> refs) { return Map.of(); }
    @Override public List<SessionId> openSessionsInShard(int shard, Optional<Instant> createdAfter) { return List.of(); }
    @Override public List<Session> readSessions(java.util.Collection<SessionId> ids) { return List.of(); }

    @Override
    public boolean completeTransition(SessionId id, String claim, TransitionState state, int attempts, boolean deferred,
                                      Optional<String> error, Instant now, Optional<backstop.core.events.EventOutbox.Kept> event) {
        completed.add(state + ":" + claim);
        return true;
    }

    @Override
    public boolean recordFailedAttempt(SessionId id, String claim, int attempts, String error, Instant nextAttemptAt,
                                       boolean callMayHaveLanded) {
        completed.add("RETRY:" + attempts + ":" + error);
        return true;
    }

    @Override
    public boolean releaseClaim(SessionId id, String claim, Instant now) {
        completed.add("HANDED_OVER:" + claim);
        return true;
    }

    int handOversCounted;

    @Override
    public void countHandOver() {
        handOversCounted++;
    }


    @Override
    public boolean failIntoSlowLane(SessionId id, String claim, int attempts, String error, Instant now, Instant nextAttemptAt,
                                    boolean callMayHaveLanded, Optional<backstop.core.events.EventOutbox.Kept> event) {
        completed.add(TransitionState.FAILED + ":" + claim);
        return true;
    }
}
