package backstop.reconciler;

import backstop.core.aws.AwsClients;
import backstop.core.aws.ClientPolicies;
import backstop.core.config.BackstopConfig;
import backstop.core.session.DynamoSessionStore;
import backstop.core.session.DynamoTransitionStore;
import org.crac.Core;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import software.amazon.lambda.powertools.logging.PowertoolsLogging;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * Lambda entry point for the EventBridge Scheduler rate(1 minute) schedule: sweeps until the time budget,
 * keeping {@link #SAFETY_MARGIN} before the Lambda timeout so no work is cut off mid-flight.
 */
public final class ReconcilerHandler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
    /**
     * What the run may still need after it stops taking work: a PutUserStatus already dispatched, the write of its
     * outcome and the last events, each at its pinned limit, plus a second to return (9 s).
     */
    public static final Duration SAFETY_MARGIN = ClientPolicies.RECONCILER.reconcilerDrain().plusSeconds(1);

    private final Reconciler reconciler;
    private final Clock clock;
    /** Held here: a CRaC context may keep only weak references to its resources. */
    private final ReconcilerPriming priming;

    /** Production: configuration from the environment, clients built once, SnapStart hooks registered. */
    public ReconcilerHandler() {
        this(production(), Clock.systemUTC());
    }

    private ReconcilerHandler(ReconcilerWiring.Primed primed, Clock clock) {
        this.reconciler = primed.reconciler();
        this.clock = clock;
        this.priming = primed.priming();
        Core.getGlobalContext().register(priming);
    }

    public ReconcilerHandler(Reconciler reconciler, Clock clock) {
        this.reconciler = reconciler;
        this.clock = clock;
        this.priming = null;
    }

    private static ReconcilerWiring.Primed production() {
        BackstopConfig config = BackstopConfig.fromEnvironment();
        AwsClients clients = AwsClients.create(AwsClients.Target.fromLambdaEnvironment(config), ClientPolicies.RECONCILER);
        Clock clock = Clock.systemUTC();
        return ReconcilerWiring.withPriming(config, new DynamoSessionStore(clients.dynamoDb(), config.sessionsTable()),
                new DynamoTransitionStore(clients.dynamoDb(), config.sessionsTable()), clients, clock, ReconcilerWiring.wallClockSleeper(clock), new PowertoolsReconcilerMetrics());
    }

    @Override
    public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
        Instant stopTakingWork = clock.instant().plusMillis(context.getRemainingTimeInMillis()).minus(SAFETY_MARGIN);
        Reconciler.Summary summary = PowertoolsLogging.withLogging(context, () -> reconciler.run(stopTakingWork));
        return Map.of("sweeps", summary.sweeps(), "staleSessionsClosed", summary.staleClosed(),
                "transitionsWorked", summary.transitionsClaimed(), "idle", summary.idle());
    }
}
