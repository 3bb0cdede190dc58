package backstop.reconciler;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;
import backstop.core.agent.InstanceRef;
import backstop.core.session.AgentRecord;
import backstop.core.session.CloseReason;
import backstop.core.session.CloseRequest;
import backstop.core.session.CloseResult;
import backstop.core.session.Exemption;
import backstop.core.session.Heartbeat;
import backstop.core.session.NewSession;
import backstop.core.session.Session;
import backstop.core.session.SessionId;
import backstop.core.session.SessionState;
import backstop.core.session.SessionStore;
import backstop.core.session.SessionToken;
import backstop.core.session.TableLayout;
import backstop.core.transition.OfflineOutcome;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The stale sweep's rules on an in-memory store: every shard read with the cutoff STALE_AFTER before now, each
 * stale session closed as STALE under the lastSeen condition with the session's own exemption, and only the
 * closes that happened counted (a heartbeat that won, a close already done, a failing close do not count).
 */
class StaleSessionSweepTest {
    static final InstanceRef INSTANCE = InstanceRef.parseArn("arn:aws:connect:us-east-1:123456789012:instance/i-1");
    static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");
    static final Duration STALE_AFTER = Duration.ofSeconds(75);

    /** Stale sessions per shard, and what each close answers (by user id). */
    static final class StaleStore implements SessionStore {
        final Map<Integer, List<Session>> stale = new ConcurrentHashMap<>();
        final Map<String, CloseResult> answers = new ConcurrentHashMap<>();
        final List<String> shardsRead = new CopyOnWriteArrayList<>();
        final List<CloseRequest> closes = new CopyOnWriteArrayList<>();

        @Override
        public List<Session> findStaleSessions(int shard, Instant cutoff, int limit) {
            shardsRead.add(shard + " before " + cutoff + " limit " + limit);
            return stale.getOrDefault(shard, List.of());
        }

        @Override
        public CloseResult close(Session current, CloseRequest request) {
            closes.add(request);
            CloseResult answer = answers.get(current.agent().userId());
            if (answer == null) {
                throw new IllegalStateException("DynamoDB unavailable");
            }
            return answer;
        }

        @Override public boolean createSession(NewSession session) { throw new UnsupportedOperationException(); }
        @Override public Optional<Session> findSession(SessionId id) { throw new UnsupportedOperationException(); }
        @Override public Optional<AgentRecord> findAgent(AgentRef agent) { throw new UnsupportedOperationException(); }
        @Override public Map<AgentRef, AgentRecord> findAgents(Collection<AgentRef> agents) { throw new UnsupportedOperationException(); }
        @Override public Heartbeat heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status, Instant now, Optional<Instant> notAfter) { throw new UnsupportedOperationException(); }
        @Override public java.util.Set<String> openSessionIds(AgentRef agent) { throw new UnsupportedOperationException(); }
    }

    static Session stale(String userId, Exemption exemption) {
        return new Session(new SessionId(String.format("%022d", Math.abs((long) userId.hashCode()))), new AgentRef(INSTANCE, userId), new byte[32],
                NOW.minusSeconds(600), NOW.minusSeconds(100), SessionState.OPEN, Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), 3, exemption);
    }

    @Test
    void sweep_should_closeEachStaleSessionOfEveryShard_asStale_underTheLastSeenCondition_countingOnlyRealCloses() {
        StaleStore store = new StaleStore();
        store.stale.put(0, List.of(stale("closed", Exemption.NOT_EXEMPT), stale("alive", Exemption.NOT_EXEMPT)));
        store.stale.put(15, List.of(stale("supervisor", Exemption.EXEMPT), stale("done-before", Exemption.UNKNOWN), stale("failing", Exemption.NOT_EXEMPT)));
        store.stale.put(7, List.of(stale("not-last", Exemption.NOT_EXEMPT)));
        store.answers.put("closed", new CloseResult.Closed(OfflineOutcome.PENDING, Optional.empty()));
        store.answers.put("not-last", new CloseResult.Closed(OfflineOutcome.NOT_NEEDED, Optional.empty()));
        store.answers.put("supervisor", new CloseResult.Closed(OfflineOutcome.EXEMPT, Optional.empty()));
        store.answers.put("alive", new CloseResult.StillAlive());
        store.answers.put("done-before", new CloseResult.AlreadyClosed(stale("done-before", Exemption.UNKNOWN)));

        int closed = new StaleSessionSweep(store, STALE_AFTER).sweep(NOW);

        assertThat(closed).as("three closes happened; a beat won one, one was closed already, one failed").isEqualTo(3);
        assertThat(store.shardsRead).hasSize(TableLayout.SHARDS)
                .allSatisfy(read -> assertThat(read).endsWith(" before " + NOW.minus(STALE_AFTER) + " limit 500"));
        assertThat(store.closes).hasSize(6).allSatisfy(request -> {
            assertThat(request.reason()).isEqualTo(CloseReason.STALE);
            assertThat(request.now()).isEqualTo(NOW);
            assertThat(request.onlyIfLastSeenBefore()).contains(NOW.minus(STALE_AFTER));
            assertThat(request.status()).isEmpty();
            assertThat(request.claim()).isNotBlank();
        });
        assertThat(store.closes).extracting(CloseRequest::exemption)
                .containsExactlyInAnyOrder(Exemption.NOT_EXEMPT, Exemption.NOT_EXEMPT, Exemption.NOT_EXEMPT, Exemption.EXEMPT, Exemption.UNKNOWN, Exemption.NOT_EXEMPT);
        assertThat(store.closes).extracting(CloseRequest::claim).doesNotHaveDuplicates();
    }

    @Test
    void sweep_should_closeNothing_when_nothingIsStale() {
        StaleStore store = new StaleStore();
        assertThat(new StaleSessionSweep(store, STALE_AFTER).sweep(NOW)).isZero();
        assertThat(store.closes).isEmpty();
    }
}
