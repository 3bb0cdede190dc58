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
 * <p>Heartbeats never write to the open index (each beat costs one write unit), so the sweep lists each
 * shard's open sessions and reads their {@code lastSeen}. It remembers what it read: {@code lastSeen} only
 * grows, so a session last seen at or after the cutoff cannot be stale yet and is not read again until the
 * cutoff passes what was seen. With 30 s heartbeats and a 75 s limit a live session is read about once a
 * minute, not at every 15 s sweep. The memory lives as long as the container and starts empty (a cold start
 * reads every open session once); it holds only sessions still in the index.
 */
public final class StaleSessionSweep {
    private static final Logger LOG = LoggerFactory.getLogger(StaleSessionSweep.class);
    private static final int IN_FLIGHT = 16;

    private final SessionStore store;
    private final Duration staleAfter;
    /** Per session, the {@code lastSeen} this sweep last read: it cannot have gone back since. */
    private final Map<SessionId, Instant> seen = new HashMap<>();
    private int openInLastSweep;

    public StaleSessionSweep(SessionStore store, Duration staleAfter) {
        this.store = store;
        this.staleAfter = staleAfter;
    }

    public Duration staleAfter() {
        return staleAfter;
    }

    /** How many sessions the last sweep found open (stale ones included), in every shard. */
    public int openInLastSweep() {
        return openInLastSweep;
    }

    /** Closes what is stale at {@code now}; returns how many sessions this sweep closed. */
    public int sweep(Instant now) {
        Instant cutoff = now.minus(staleAfter);
        openInLastSweep = 0;
        AtomicInteger closed = new AtomicInteger();
        // A wave of crashes (a site's network drops) closes in parallel: each close is its own transaction.
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            Semaphore slots = new Semaphore(IN_FLIGHT);
            for (int shard = 0; shard < TableLayout.SHARDS; shard++) {
                for (Session session : staleIn(shard, cutoff)) {
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
        }
        return closed.get();
    }

    /** The shard's open sessions last seen before the cutoff, reading only those that may be. */
    private List<Session> staleIn(int shard, Instant cutoff) {
        List<SessionId> open = store.openSessionsInShard(shard);
        openInLastSweep += open.size();
        Set<SessionId> inShard = new HashSet<>(open);
        seen.keySet().removeIf(id -> TableLayout.shard(id) == shard && !inShard.contains(id));
        List<SessionId> mayBeStale = open.stream()
                .filter(id -> !Optional.ofNullable(seen.get(id)).filter(at -> !at.isBefore(cutoff)).isPresent())
                .toList();
        List<Session> stale = new ArrayList<>();
        for (Session session : store.readSessions(mayBeStale)) {
            if (session.isOpen() && session.lastSeen().isBefore(cutoff)) {
                stale.add(session);
                seen.remove(session.id()); // closed, or alive after all: either way read it again next time
            } else {
                seen.put(session.id(), session.lastSeen());
            }
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
