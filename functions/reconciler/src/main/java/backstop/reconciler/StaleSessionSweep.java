package backstop.reconciler;

import backstop.core.session.CloseReason;
import backstop.core.session.CloseRequest;
import backstop.core.session.CloseResult;
import backstop.core.session.Session;
import backstop.core.session.SessionId;
import backstop.core.session.SessionStore;
import backstop.core.session.TableLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Closes OPEN sessions whose last heartbeat is older than the stale limit (crash, sleep, network loss: no
 * beacon ever came). Each close is conditional on {@code lastSeen} still being old, so a heartbeat arriving at
 * the same moment wins and the session stays open. The close creates the Offline transition (when it was the
 * agent's last session), due at once for {@link DueTransitionSweep}.
 *
 * <p>Heartbeats never write to the open index (each beat costs one write unit), so the sweep keeps its own
 * account of the open sessions and reads their {@code lastSeen}:
 * <ul>
 * <li>It lists every shard of the index in full once a minute ({@link #FULL_LISTING_EVERY}: what left the index
 * is forgotten then) and, in between, only the sessions created since its last listing, with an overlap
 * ({@link #LISTING_OVERLAP}) for index entries that appear late. A listing reads a few bytes a session; a sweep
 * lists new sessions, not all of them.</li>
 * <li>It remembers the {@code lastSeen} it read: {@code lastSeen} only grows, so a session last seen at or after
 * the cutoff cannot be stale yet and is not read again until the cutoff passes what was seen. With 30 s heartbeats
 * and a 75 s limit a live session is read about once a minute, not at every 15 s sweep. A session read closed is
 * forgotten; one found stale is read again at the next sweep (closed by then, or alive after all).</li>
 * </ul>
 * The account lives as long as the container and starts empty (a cold start lists and reads every open session
 * once).
 *
 * <p>Before it closes anything it asks the {@link HeartbeatOutageBrake} whether the stale sessions are departures
 * or the sign of a heartbeat outage: a sweep that finds any stale session (and every sweep while an outage is
 * recorded) reads a uniform sample of the open sessions ({@link #SAMPLE}: all of them up to that many) and the
 * brake judges the share that missed their heartbeats. Held sessions are not read again while the outage lasts
 * (the sample tells when the beats come back); after it, no session is stale until a full stale limit has passed
 * since the recovery.
 */
public final class StaleSessionSweep {
    private static final Logger LOG = LoggerFactory.getLogger(StaleSessionSweep.class);
    private static final int IN_FLIGHT = 16;
    /** How often the whole index is listed (what left it is forgotten then). */
    static final Duration FULL_LISTING_EVERY = Duration.ofMinutes(1);
    /** How far before the last listing an incremental listing starts: index entries may appear late. */
    static final Duration LISTING_OVERLAP = Duration.ofMinutes(1);
    /** A session listed but not read yet. */
    private static final Instant UNREAD = Instant.MIN;
    /** A stale session held during a suspected heartbeat outage: not read again until the outage ends. */
    private static final Instant HELD = Instant.MIN.plusMillis(1);
    /** How many open sessions the brake's sample reads at most (all of them up to this many). */
    static final int SAMPLE = 200;
    /** How many sessions' items are read and held at once (10 BatchGetItem calls' worth). */
    static final int READ_PAGE = 1_000;

    private final SessionStore store;
    private final Duration staleAfter;
    private final HeartbeatOutageBrake brake;
    private final java.util.Random random = new java.util.Random();
    /** Every open session this sweep knows of, with the {@code lastSeen} it last read (it cannot have gone back since). */
    private final Map<SessionId, Instant> known = new HashMap<>();
    private Instant lastListing;
    private Instant lastFullListing;
    private int openInLastSweep;

    /** Without a brake: every stale session is closed (tests of the sweep alone). */
    public StaleSessionSweep(SessionStore store, Duration staleAfter) {
        this(store, staleAfter, HeartbeatOutageBrake.off());
    }

    public StaleSessionSweep(SessionStore store, Duration staleAfter, HeartbeatOutageBrake brake) {
        this.store = store;
        this.staleAfter = staleAfter;
        this.brake = brake;
    }

    public Duration staleAfter() {
        return staleAfter;
    }

    /** How many open sessions the last sweep knew of (stale ones included), in every shard. */
    public int openInLastSweep() {
        return openInLastSweep;
    }

    /** Closes what is stale at {@code now}; returns how many sessions this sweep closed. */
    public int sweep(Instant now) {
        Instant cutoff = now.minus(staleAfter);
        list(now);
        brake.begin(now);
        if (inGrace(now)) {
            openInLastSweep = known.size();
            return 0;
        }
        List<Session> stale = staleAmongKnown(cutoff);
        openInLastSweep = known.size();
        if ((!stale.isEmpty() || brake.engaged()) && brake.enabled()) {
            int held = stale.size() + (int) known.values().stream().filter(HELD::equals).count();
            if (brake.hold(now, sample(stale), known.size(), held)) {
                stale.forEach(session -> known.put(session.id(), HELD));
                return 0;
            }
            boolean released = known.containsValue(HELD);
            known.replaceAll((id, seen) -> HELD.equals(seen) ? UNREAD : seen); // held no more: read again
            if (inGrace(now)) {
                stale.forEach(session -> known.put(session.id(), UNREAD));
                return 0;
            }
            if (released) { // a hold that ends with no grace (a flood's) closes what it held now, not a sweep later
                Set<SessionId> already = new HashSet<>();
                stale.forEach(session -> already.add(session.id()));
                stale = new ArrayList<>(stale);
                for (Session session : staleAmongKnown(cutoff)) {
                    if (already.add(session.id())) {
                        stale.add(session);
                    }
                }
            }
        }
        AtomicInteger closed = new AtomicInteger();
        // A wave of crashes (a site's network drops) closes in parallel: each close is its own transaction.
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            Semaphore slots = new Semaphore(IN_FLIGHT);
            for (Session session : stale) {
                slots.acquireUninterruptibly();
                executor.submit(() -> {
                    try {
                        if (close(session, now, cutoff)) {
                            closed.incrementAndGet();
                        }
                    } catch (RuntimeException e) {
                        LOG.error("closing stale session {} failed; the next sweep tries again", session.id(), e);
                    } finally {
                        slots.release();
                    }
                });
            }
        }
        return closed.get();
    }

    /**
     * Lists the index: in full once a minute, otherwise what was created since the last listing (with the overlap).
     * Streamed a page at a time into the account: an incremental listing holds nothing of its own, and a full one
     * holds one shard's ids at a time (a sixteenth of the open sessions), to forget what left that shard.
     */
    private void list(Instant now) {
        boolean full = lastFullListing == null || !now.isBefore(lastFullListing.plus(FULL_LISTING_EVERY));
        for (int shard = 0; shard < TableLayout.SHARDS; shard++) {
            if (full) {
                Set<SessionId> listed = new HashSet<>();
                store.forEachOpenSessionInShard(shard, Optional.empty(), listed::add);
                int inShard = shard;
                known.keySet().removeIf(id -> TableLayout.shard(id) == inShard && !listed.contains(id));
                listed.forEach(id -> known.putIfAbsent(id, UNREAD));
            } else {
                store.forEachOpenSessionInShard(shard, Optional.of(lastListing.minus(LISTING_OVERLAP)), id -> known.putIfAbsent(id, UNREAD));
            }
        }
        if (full) {
            lastFullListing = now;
        }
        lastListing = now;
    }

    /** Whether an outage ended less than a stale limit ago: until then no session counts as stale. */
    private boolean inGrace(Instant now) {
        return brake.graceUntil(staleAfter).map(now::isBefore).orElse(false);
    }

    /**
     * A uniform sample of the open sessions (all of them up to {@link #SAMPLE}), the stale ones just read counted
     * where they fall in it, the others read now (eventually consistent, half a read unit each).
     */
    private List<Session> sample(List<Session> justRead) {
        // Reservoir sampling (Algorithm R) over the account: uniform, holding SAMPLE ids, not a copy of every one.
        List<SessionId> ids = new ArrayList<>(Math.min(SAMPLE, known.size()));
        int seen = 0;
        for (SessionId id : known.keySet()) {
            if (seen < SAMPLE) {
                ids.add(id);
            } else {
                int slot = random.nextInt(seen + 1);
                if (slot < SAMPLE) {
                    ids.set(slot, id);
                }
            }
            seen++;
        }
        Map<SessionId, Session> read = new HashMap<>();
        justRead.forEach(session -> read.put(session.id(), session));
        List<Session> sample = new ArrayList<>();
        List<SessionId> toRead = new ArrayList<>();
        for (SessionId id : ids) {
            if (read.containsKey(id)) {
                sample.add(read.get(id));
            } else {
                toRead.add(id);
            }
        }
        for (Session session : store.readSessions(toRead)) {
            if (!session.isOpen()) {
                known.remove(session.id());
                continue;
            }
            sample.add(session);
            if (!HELD.equals(known.get(session.id()))) {
                known.put(session.id(), session.lastSeen());
            }
        }
        return sample;
    }

    /** Reads the known sessions that may be stale (not those held during an outage); returns those that are. */
    private List<Session> staleAmongKnown(Instant cutoff) {
        boolean holding = brake.engaged();
        List<SessionId> mayBeStale = known.entrySet().stream()
                .filter(e -> e.getValue().isBefore(cutoff) && !(holding && HELD.equals(e.getValue())))
                .map(Map.Entry::getKey).toList();
        List<Session> stale = new ArrayList<>();
        // A page at a time: a new container's first sweep reads every open session, and holding all their items at
        // once (the SDK's maps, about 3 KB each) would grow with the centre; a page is bounded, only the stale stay.
        for (int from = 0; from < mayBeStale.size(); from += READ_PAGE) {
            List<SessionId> page = mayBeStale.subList(from, Math.min(mayBeStale.size(), from + READ_PAGE));
            Set<SessionId> unanswered = new HashSet<>(page);
            for (Session session : store.readSessions(page)) {
                unanswered.remove(session.id());
                if (!session.isOpen()) {
                    known.remove(session.id());
                } else if (session.lastSeen().isBefore(cutoff)) {
                    stale.add(session);
                    known.put(session.id(), UNREAD); // read again next sweep: closed by then, or alive after all
                } else {
                    known.put(session.id(), session.lastSeen());
                }
            }
            unanswered.forEach(known::remove); // no item (expired): nothing to watch
        }
        return stale;
    }

    private boolean close(Session session, Instant now, Instant cutoff) {
        CloseResult result = store.close(session, new CloseRequest(session.id(), CloseReason.STALE, Optional.empty(), now,
                session.exemption(), UUID.randomUUID().toString(), now, Optional.of(cutoff)));
        if (result instanceof CloseResult.Closed c) {
            LOG.info("stale session {} of agent {} closed (last heartbeat {}): {}", session.id(),
                    session.agent().userId(), session.lastSeen(), c.outcome().value());
            return true;
        }
        if (result instanceof CloseResult.StillAlive) {
            LOG.info("session {} heartbeat arrived while closing it as stale: stays open", session.id());
        }
        return false;
    }
}
