package backstop.reconciler;

import backstop.core.connect.ConnectAgentStatus;
import backstop.core.random.RestoreSafeRandom;
import backstop.core.session.IndexBackfilling;
import backstop.core.snapstart.PrimingSteps;
import backstop.core.snapstart.SnapStartHooks;
import backstop.core.transition.TransitionQueue;

import java.time.Clock;

/**
 * SnapStart hooks of the reconciler ({@link SnapStartHooks}). Before the snapshot: the credentials resolved as the first
 * call would, the backlog count (a query on every shard of the due index: the DynamoDB query path, read-only; an
 * index still backfilling only leaves it uncounted, since a deploy that adds it publishes while it fills) and
 * Connect's ListAgentStatuses (read-only; caches the OFFLINE-type status id); a failure no retry will fix fails
 * the priming. After a restore: the random source behind backoff jitter is reseeded. Lease claims come from
 * {@code UUID.randomUUID()}, whose generator is first used after the restore (priming makes no claim).
 */
public final class ReconcilerPriming extends SnapStartHooks {

    private final TransitionQueue store;
    private final ConnectAgentStatus connect;
    private final Clock clock;
    private final PrimingSteps.Step credentials;

    /** {@code credentials} resolves the clients' credentials (see {@code AwsClients.resolveCredentials}). */
    public ReconcilerPriming(TransitionQueue store, ConnectAgentStatus connect, PrimingSteps.Step credentials,
                             RestoreSafeRandom random, Clock clock) {
        super(random);
        this.store = store;
        this.connect = connect;
        this.credentials = credentials;
        this.clock = clock;
    }

    @Override
    protected void prime(PrimingSteps steps) {
        steps.require("credentials", () -> {
            credentials.run();
            return "resolved";
        });
        steps.run("due backlog", () -> {
            try {
                return "counted: " + store.countDueTransitions(clock.instant());
            } catch (IndexBackfilling e) {
                return "not counted: index " + e.index() + " is still backfilling";
            }
        });
        steps.run("ListAgentStatuses", () -> {
            connect.offlineStatusId();
            return "offline status cached";
        });
    }
}
