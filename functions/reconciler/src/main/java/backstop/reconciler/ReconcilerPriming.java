package backstop.reconciler;

import backstop.core.connect.ConnectAgentStatus;
import backstop.core.connect.ConnectFailure;
import backstop.core.random.RestoreSafeRandom;
import backstop.core.session.SessionStore;
import org.crac.Context;
import org.crac.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * SnapStart hooks of the reconciler. Before the snapshot: the backlog count (a query on every shard of the due
 * index: the DynamoDB query path, read-only) and Connect's ListAgentStatuses (read-only; caches the OFFLINE-type
 * status id). After a restore: the random source behind backoff jitter is reseeded. Lease claims come from
 * {@code UUID.randomUUID()}, whose generator is first used after the restore (priming makes no claim).
 */
public final class ReconcilerPriming implements Resource {
    private static final Logger LOG = LoggerFactory.getLogger(ReconcilerPriming.class);

    private final SessionStore store;
    private final ConnectAgentStatus connect;
    private final RestoreSafeRandom random;
    private final Clock clock;

    public ReconcilerPriming(SessionStore store, ConnectAgentStatus connect, RestoreSafeRandom random, Clock clock) {
        this.store = store;
        this.connect = connect;
        this.random = random;
        this.clock = clock;
    }

    /** What one priming pass did (for the log and the test). */
    public List<String> prime() {
        List<String> steps = new ArrayList<>();
        steps.add("due backlog counted: " + store.countDueTransitions(clock.instant()));
        try {
            connect.offlineStatusId();
            steps.add("ListAgentStatuses -> offline status cached");
        } catch (ConnectFailure failure) {
            steps.add("ListAgentStatuses -> " + failure.code());
        }
        return steps;
    }

    @Override
    public void beforeCheckpoint(Context<? extends Resource> context) {
        try {
            LOG.info("priming before the snapshot: {}", prime());
        } catch (RuntimeException e) {
            LOG.warn("priming before the snapshot failed: {}", e.toString());
        }
    }

    @Override
    public void afterRestore(Context<? extends Resource> context) {
        random.reseed();
        LOG.info("restored from the snapshot: random source reseeded");
    }
}
