package backstop.beacon;

import backstop.core.aws.AwsClients;
import backstop.core.config.BackstopConfig;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.events.EventBridgePublisher;
import backstop.core.random.RestoreSafeRandom;
import backstop.core.metrics.OfflineMetrics;
import backstop.core.events.OutboxPublisher;
import backstop.core.session.DynamoConnectBudget;
import backstop.core.session.DynamoEventOutbox;
import backstop.core.session.DynamoRefusedHeartbeats;
import backstop.core.session.DynamoSessionStore;
import backstop.core.session.DynamoTransitionStore;
import backstop.core.session.SessionIds;
import backstop.core.transition.Backoff;
import backstop.core.transition.OfflineTransitions;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;

/** Builds the beacon's object graph by hand (no DI framework): from configuration and clients to the API. */
public final class BeaconWiring {
    private static final Logger LOG = LoggerFactory.getLogger(BeaconWiring.class);

    private BeaconWiring() {
    }

    /** The API and its SnapStart hooks, sharing one graph. */
    public record Beacon(BeaconApi api, BeaconPriming priming, OfflineMetrics metrics) {
    }

    /** Without metrics (the local stack, tests). */
    public static Beacon beacon(BackstopConfig config, AwsClients clients, Clock clock) {
        return beacon(config, clients, clock, OfflineMetrics.NONE);
    }

    public static Beacon beacon(BackstopConfig config, AwsClients clients, Clock clock, OfflineMetrics metrics) {
        config.identityClaimWarning().ifPresent(LOG::warn); // once a container: the graph is built once, at init
        DynamoSessionStore sessions = new DynamoSessionStore(clients.dynamoDb(), config.sessionsTable());
        DynamoTransitionStore transitionStore = new DynamoTransitionStore(clients.dynamoDb(), config.sessionsTable());
        // Every container's Connect calls together (beacons and reconciler) stay under the configured share of the
        // account's quota: one budget on the table, not one per container.
        DynamoConnectBudget budget = new DynamoConnectBudget(clients.dynamoDb(), config.sessionsTable(), config.connectRatePerSecond());
        ConnectAgentStatus connect = new ConnectAgentStatus(clients.connect(), config.connectInstance(), budget);
        EventBridgePublisher eventBridge = new EventBridgePublisher(clients.eventBridge(), config.eventBusName(), clock);
        // What EventBridge still refuses is kept on the table; the reconciler sends it again.
        OutboxPublisher events = new OutboxPublisher(eventBridge, new DynamoEventOutbox(clients.dynamoDb(), config.sessionsTable()));
        RestoreSafeRandom random = new RestoreSafeRandom();
        OfflineTransitions transitions = new OfflineTransitions(transitionStore, connect, events, clock, Backoff.DEFAULT,
                config.maxAttempts(), random, config.exemptRoutingProfileIds());
        SessionIds ids = SessionIds.onTable(clients.dynamoDb(), config.sessionsTable(), random, clock);
        // The flood's footprint: refused heartbeats counted a window at a time for the reconciler's brake.
        RefusalMeter refusals = new RefusalMeter(new DynamoRefusedHeartbeats(clients.dynamoDb(), config.sessionsTable()), clock,
                Duration.ofSeconds(config.heartbeatSeconds()), random);
        BeaconApi api = new BeaconApi(config, new BeaconService(config, sessions, transitionStore, connect, transitions, events, metrics,
                clock, random, budget, new UnknownUsers(clock), ids), refusals);
        return new Beacon(api, new BeaconPriming(config, api, sessions, connect, eventBridge, clients::resolveCredentials, random),
                metrics);
    }

    public static BeaconApi api(BackstopConfig config, AwsClients clients, Clock clock) {
        return beacon(config, clients, clock).api();
    }
}
