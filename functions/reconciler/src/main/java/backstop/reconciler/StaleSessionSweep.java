package backstop.reconciler;

import backstop.core.session.CloseReason;
import backstop.core.session.CloseRequest;
import backstop.core.session.CloseResult;
import backstop.core.session.Session;
import backstop.core.session.SessionStore;
import backstop.core.session.TableLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
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
 */
public final class StaleSessionSweep {
    private static final Logger LOG = LoggerFactory.getLogger(StaleSessionSweep.class);
    private static final int PER_SHARD = 500;
    private static final int IN_FLIGHT = 16;

    private final SessionStore store;
    private final Duration staleAfter;

    public StaleSessionSweep(SessionStore store, Duration staleAfter) {
        this.store = store;
        this.staleAfter = staleAfter;
    }

    /** Closes what is stale at {@code now}; returns how many sessions this sweep closed. */
    public int sweep(Instant now) {
        Instant cutoff = now.minus(staleAfter);
        AtomicInteger closed = new AtomicInteger();
        // A wave of crashes (a site's network drops) closes in parallel: each close is its own transaction.
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            Semaphore slots = new Semaphore(IN_FLIGHT);
            for (int shard = 0; shard < TableLayout.SHARDS; shard++) {
                for (Session session : store.findStaleSessions(shard, cutoff, PER_SHARD)) {
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
