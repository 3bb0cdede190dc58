package backstop.reconciler;

import backstop.core.connect.ConnectAgentStatus;
import backstop.core.connect.ConnectFailure;
import backstop.core.random.RestoreSafeRandom;
import backstop.core.session.IndexBackfilling;
import backstop.core.snapstart.SnapStartHooks;
import backstop.core.transition.TransitionQueue;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * SnapStart hooks of the reconciler ({@link SnapStartHooks}). Before the snapshot: the backlog count (a query on every shard of the due
 * index: the DynamoDB query path, read-only; an index still backfilling only leaves it uncounted) and Connect's ListAgentStatuses (read-only; caches the OFFLINE-type
 * status id). After a restore: the random source behind backoff jitter is reseeded. Lease claims come from
 * {@code UUID.randomUUID()}, whose generator is first used after the restore (priming makes no claim).
 */
public final class ReconcilerPriming extends SnapStartHooks {

    private final TransitionQueue store;
    private final ConnectAgentStatus connect;
    private final Clock clock;

    public ReconcilerPriming(TransitionQueue store, ConnectAgentStatus connect, RestoreSafeRandom random, Clock clock) {
        super(random);
        this.store = store;
        this.connect = connect;
        this.clock = clock;
    }

    @Override
    public List<String> prime() {
        List<String> steps = new ArrayList<>();
        try {
            steps.add("due backlog counted: " + store.countDueTransitions(clock.instant()));
        } catch (IndexBackfilling e) {
            // A deploy that adds the index publishes its version while the index fills: the query path is primed
            // all the same (request sent, answer read), and the runs wait for the index.
            steps.add("due backlog not counted: index " + e.index() + " is still backfilling");
        }
        try {
            connect.offlineStatusId();
            steps.add("ListAgentStatuses -> offline status cached");
        } catch (ConnectFailure failure) {
            steps.add("ListAgentStatuses -> " + failure.code());
        }
        return steps;
    }
}
