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

    /** Open sessions (each in its own id's shard), what each close answers (by user id), and every read. */
    static final class StaleStore implements SessionStore {
        final Map<SessionId, Session> open = new ConcurrentHashMap<>();
        final Map<String, CloseResult> answers = new ConcurrentHashMap<>();
        final List<Integer> shardsListed = new CopyOnWriteArrayList<>();
        final List<Optional<Instant>> listedSince = new CopyOnWriteArrayList<>();
        final List<String> read = new CopyOnWriteArrayList<>();
        final List<CloseRequest> closes = new CopyOnWriteArrayList<>();
        /** While set, every listing of the open index fails with it (still backfilling after a deploy, or worse). */
        volatile RuntimeException listingFailure;

        void add(Session session) {
            open.put(session.id(), session);
        }

        /** While set, the listing that returns a shard's every id at once is refused: the sweep must stream. */
        volatile boolean wholeListsRefused;

        @Override
        public List<SessionId> openSessionsInShard(int shard, Optional<Instant> createdAfter) {
            if (wholeListsRefused) {
                throw new AssertionError("a listing held the shard's every id");
            }
            List<SessionId> ids = new java.util.ArrayList<>();
            forEachOpenSessionInShard(shard, createdAfter, ids::add);
            return ids;
        }

        @Override
        public void forEachOpenSessionInShard(int shard, Optional<Instant> createdAfter, java.util.function.Consumer<SessionId> each) {
            shardsListed.add(shard);
            if (listingFailure != null) {
                throw listingFailure;
            }
            if (shard == 0) {
                listedSince.add(createdAfter);
            }
            open.values().stream().filter(s -> TableLayout.shard(s.id()) == shard)
                    .filter(s -> createdAfter.map(after -> s.created().isAfter(after)).orElse(true)).map(Session::id).forEach(each);
        }

        /** How many ids each read asked for. */
        final List<Integer> readSizes = new CopyOnWriteArrayList<>();

        @Override
        public List<Session> readSessions(Collection<SessionId> ids) {
            readSizes.add(ids.size());
            List<Session> found = ids.stream().map(open::get).filter(java.util.Objects::nonNull).toList();
            found.forEach(s -> read.add(s.agent().userId()));
            return found;
        }

        @Override
        public CloseResult close(Session current, CloseRequest request) {
            closes.add(request);
            CloseResult answer = answers.get(current.agent().userId());
            if (answer == null) {
                throw new IllegalStateException("DynamoDB unavailable");
            }
            if (answer instanceof CloseResult.Closed) { // as the table: read CLOSED from now on
                open.put(current.id(), new Session(current.id(), current.agent(), current.tokenHash(), current.created(),
                        current.lastSeen(), SessionState.CLOSED, Optional.of(request.now()), Optional.empty(), Optional.empty(),
                        Optional.empty(), current.heartbeats(), current.exemption()));
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
        return seen(userId, exemption, NOW.minusSeconds(100));
    }

    static Session seen(String userId, Exemption exemption, Instant lastSeen) {
        return created(userId, exemption, NOW.minusSeconds(600), lastSeen);
    }

    static Session created(String userId, Exemption exemption, Instant created, Instant lastSeen) {
        return new Session(new SessionId(String.format("%022d", Math.abs((long) userId.hashCode()))), new AgentRef(INSTANCE, userId), new byte[32],
                created, lastSeen, SessionState.OPEN, Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), 3, exemption);
    }

    @Test
    void sweep_should_closeEachStaleSessionOfEveryShard_asStale_underTheLastSeenCondition_countingOnlyRealCloses() {
        StaleStore store = new StaleStore();
        List.of(stale("closed", Exemption.NOT_EXEMPT), stale("alive", Exemption.NOT_EXEMPT), stale("supervisor", Exemption.EXEMPT),
                stale("done-before", Exemption.UNKNOWN), stale("failing", Exemption.NOT_EXEMPT), stale("not-last", Exemption.NOT_EXEMPT),
                seen("fresh", Exemption.NOT_EXEMPT, NOW.minusSeconds(20)), seen("at-the-cutoff", Exemption.NOT_EXEMPT, NOW.minus(STALE_AFTER)))
                .forEach(store::add);
        store.answers.put("closed", new CloseResult.Closed(OfflineOutcome.PENDING, Optional.empty()));
        store.answers.put("not-last", new CloseResult.Closed(OfflineOutcome.NOT_NEEDED, Optional.empty()));
        store.answers.put("supervisor", new CloseResult.Closed(OfflineOutcome.EXEMPT, Optional.empty()));
        store.answers.put("alive", new CloseResult.StillAlive());
        store.answers.put("done-before", new CloseResult.AlreadyClosed(stale("done-before", Exemption.UNKNOWN)));

        int closed = new StaleSessionSweep(store, STALE_AFTER).sweep(NOW);

        assertThat(closed).as("three closes happened; a beat won one, one was closed already, one failed").isEqualTo(3);
        assertThat(store.shardsListed).containsExactlyInAnyOrderElementsOf(java.util.stream.IntStream.range(0, TableLayout.SHARDS).boxed().toList());
        assertThat(store.closes).hasSize(6).allSatisfy(request -> {
            assertThat(request.reason()).isEqualTo(CloseReason.STALE);
            assertThat(request.now()).isEqualTo(NOW);
            assertThat(request.onlyIfLastSeenBefore()).contains(NOW.minus(STALE_AFTER));
            assertThat(request.status()).isEmpty();
            assertThat(request.claim()).isNotBlank();
        });
        assertThat(store.closes).extracting(r -> store.open.get(r.sessionId()).agent().userId())
                .as("a session seen 20 s ago, or exactly at the cutoff, is not stale")
                .containsExactlyInAnyOrder("closed", "alive", "supervisor", "done-before", "failing", "not-last");
        assertThat(store.closes).extracting(CloseRequest::exemption)
                .containsExactlyInAnyOrder(Exemption.NOT_EXEMPT, Exemption.NOT_EXEMPT, Exemption.NOT_EXEMPT, Exemption.EXEMPT, Exemption.UNKNOWN, Exemption.NOT_EXEMPT);
        assertThat(store.closes).extracting(CloseRequest::claim).doesNotHaveDuplicates();
    }

    @Test
    void sweep_should_readALiveSessionAgain_onlyOnceTheCutoffPassesWhatItLastSaw() {
        StaleStore store = new StaleStore();
        store.add(seen("live", Exemption.NOT_EXEMPT, NOW.minusSeconds(10)));
        store.add(stale("failing", Exemption.NOT_EXEMPT));
        StaleSessionSweep sweep = new StaleSessionSweep(store, STALE_AFTER);

        sweep.sweep(NOW);
        assertThat(store.read).containsExactlyInAnyOrder("live", "failing");

        store.read.clear();
        sweep.sweep(NOW.plusSeconds(15));
        sweep.sweep(NOW.plusSeconds(30));
        sweep.sweep(NOW.plusSeconds(45));
        sweep.sweep(NOW.plusSeconds(60));
        assertThat(store.read).as("seen at NOW - 10 s: cannot be stale before NOW + 65 s; a failed close is read at every sweep")
                .containsExactly("failing", "failing", "failing", "failing");

        sweep.sweep(NOW.plusSeconds(75));
        assertThat(store.read).as("at NOW + 75 s the cutoff is NOW, after what was seen: read it again").contains("live");
        assertThat(store.closes).extracting(r -> store.open.get(r.sessionId()).agent().userId())
                .as("the live session had no heartbeat since: closed once the cutoff passed it").contains("live");
    }

    @Test
    void sweep_should_listInFullOnceAMinute_andInBetweenOnlyWhatWasCreatedSinceTheLastListing_withAnOverlap() {
        StaleStore store = new StaleStore();
        store.add(seen("early", Exemption.NOT_EXEMPT, NOW.minusSeconds(5)));
        StaleSessionSweep sweep = new StaleSessionSweep(store, STALE_AFTER);

        for (int s = 0; s <= 75; s += 15) {
            sweep.sweep(NOW.plusSeconds(s));
        }

        assertThat(store.listedSince).containsExactly(Optional.empty(),
                Optional.of(NOW.minus(StaleSessionSweep.LISTING_OVERLAP)),
                Optional.of(NOW.plusSeconds(15).minus(StaleSessionSweep.LISTING_OVERLAP)),
                Optional.of(NOW.plusSeconds(30).minus(StaleSessionSweep.LISTING_OVERLAP)),
                Optional.empty(),
                Optional.of(NOW.plusSeconds(60).minus(StaleSessionSweep.LISTING_OVERLAP)));
    }

    @Test
    void sweep_should_watchASessionCreatedBetweenListings_fromTheNextSweep() {
        StaleStore store = new StaleStore();
        StaleSessionSweep sweep = new StaleSessionSweep(store, STALE_AFTER);
        sweep.sweep(NOW);
        Session late = created("late", Exemption.NOT_EXEMPT, NOW.plusSeconds(5), NOW.plusSeconds(5));
        store.add(late);

        sweep.sweep(NOW.plusSeconds(15));
        assertThat(store.read).as("listed by the incremental listing and read").containsExactly("late");
        assertThat(sweep.openInLastSweep()).isEqualTo(1);

        sweep.sweep(NOW.plusSeconds(5 + 75 + 10)); // no heartbeat since: stale
        assertThat(store.closes).extracting(r -> r.sessionId()).containsExactly(late.id());
    }

    @Test
    void sweep_should_forgetASessionThatLeftTheIndex_atTheNextFullListing_orWhenReadClosed() {
        StaleStore store = new StaleStore();
        Session ahead = seen("ahead", Exemption.NOT_EXEMPT, NOW.plusSeconds(3600)); // never due by its lastSeen
        Session closing = seen("closing", Exemption.NOT_EXEMPT, NOW.minusSeconds(10));
        store.add(ahead);
        store.add(closing);
        StaleSessionSweep sweep = new StaleSessionSweep(store, STALE_AFTER);
        sweep.sweep(NOW);
        store.open.remove(ahead.id());
        store.open.put(closing.id(), new Session(closing.id(), closing.agent(), new byte[32], closing.created(), closing.lastSeen(),
                SessionState.CLOSED, Optional.of(NOW), Optional.empty(), Optional.empty(), Optional.empty(), 3, Exemption.NOT_EXEMPT));

        sweep.sweep(NOW.plusSeconds(15));
        assertThat(sweep.openInLastSweep()).as("an incremental listing forgets nothing").isEqualTo(2);
        sweep.sweep(NOW.plusSeconds(60));
        assertThat(sweep.openInLastSweep()).as("the full listing forgot the one that left the index; the closed one is"
                + " still listed here (an index entry that lingers) and not due to be read").isEqualTo(1);

        store.add(ahead); // listed again (created long ago: the next full listing finds it)
        store.read.clear();
        sweep.sweep(NOW.plusSeconds(75));
        assertThat(store.read).as("the closed one is read once its cutoff passes").containsExactly("closing");
        assertThat(sweep.openInLastSweep()).as("read closed: forgotten").isZero();
        store.open.remove(closing.id()); // its index entry gone at last
        sweep.sweep(NOW.plusSeconds(120));
        assertThat(store.read).as("the full listing finds the forgotten one again, unread").containsExactly("closing", "ahead");
        assertThat(store.closes).as("a closed session is never closed again").isEmpty();
    }

    @Test
    void aFirstSweep_should_readTheOpenSessionsAPageAtATime_notAllAtOnce() {
        StaleStore store = new StaleStore();
        for (int i = 0; i < 2_500; i++) {
            String user = "agent-" + i;
            store.add(created(user, Exemption.NOT_EXEMPT, NOW.minusSeconds(600), i % 500 == 0 ? NOW.minusSeconds(100) : NOW.minusSeconds(5)));
            store.answers.put(user, new CloseResult.Closed(OfflineOutcome.PENDING, Optional.empty()));
        }
        int closed = new StaleSessionSweep(store, STALE_AFTER).sweep(NOW); // a new container: every session unread

        assertThat(closed).as("the stale ones, from every page").isEqualTo(5);
        assertThat(store.readSizes).as("ids a read: at most a page").containsExactly(1_000, 1_000, 500);
    }

    @Test
    void sweep_should_closeNothing_when_nothingIsStale() {
        StaleStore store = new StaleStore();
        store.add(seen("fresh", Exemption.NOT_EXEMPT, NOW.minusSeconds(1)));
        assertThat(new StaleSessionSweep(store, STALE_AFTER).sweep(NOW)).isZero();
        assertThat(store.closes).isEmpty();
        assertThat(store.read).containsExactly("fresh");
    }

    /**
     * Memory bounded by a page: the sweep takes the index's ids as they stream (never a shard's whole list), and a
     * full listing, done shard by shard, still forgets exactly the sessions that left the index in every shard.
     */
    @Test
    void listing_should_streamTheIndex_andAFullListingForgetWhatLeftItInEveryShard() {
        StaleStore store = new StaleStore();
        store.wholeListsRefused = true;
        List<Session> sessions = new java.util.ArrayList<>();
        for (int i = 0; i < 64; i++) {
            Session session = seen("live-" + i, Exemption.NOT_EXEMPT, NOW);
            sessions.add(session);
            store.add(session);
        }
        StaleSessionSweep sweep = new StaleSessionSweep(store, STALE_AFTER);
        sweep.sweep(NOW);
        assertThat(sweep.openInLastSweep()).isEqualTo(64);
        assertThat(sessions.stream().map(s -> TableLayout.shard(s.id())).distinct().count()).as("sessions in many shards").isGreaterThan(8);

        java.util.Set<Integer> shardsLeft = new java.util.HashSet<>();
        for (int i = 0; i < 64; i += 4) { // a quarter leave the index (closed by their beacon), across the shards
            store.open.remove(sessions.get(i).id());
            shardsLeft.add(TableLayout.shard(sessions.get(i).id()));
        }
        sweep.sweep(NOW.plusSeconds(15)); // incremental: nothing is forgotten yet
        assertThat(sweep.openInLastSweep()).isEqualTo(64);
        sweep.sweep(NOW.plus(StaleSessionSweep.FULL_LISTING_EVERY).plusSeconds(1));
        assertThat(shardsLeft).as("sessions left from several shards").hasSizeGreaterThan(4);
        assertThat(sweep.openInLastSweep()).as("the full listing forgot the 16 that left, and only them").isEqualTo(48);
    }
}
