package backstop.beacon;

import backstop.core.aws.AwsClients;
import backstop.core.config.BackstopConfig;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.events.EventBridgePublisher;
import backstop.core.session.DynamoSessionStore;
import backstop.core.transition.Backoff;
import backstop.core.transition.OfflineTransitions;

import java.security.SecureRandom;
import java.time.Clock;

/** Builds the beacon's object graph by hand (no DI framework): from configuration and clients to the API. */
public final class BeaconWiring {
    private BeaconWiring() {
    }

    public static BeaconApi api(BackstopConfig config, AwsClients clients, Clock clock) {
        DynamoSessionStore store = new DynamoSessionStore(clients.dynamoDb(), config.sessionsTable());
        ConnectAgentStatus connect = new ConnectAgentStatus(clients.connect(), config.connectInstance());
        EventBridgePublisher events = new EventBridgePublisher(clients.eventBridge(), config.eventBusName(), clock);
        SecureRandom random = new SecureRandom();
        OfflineTransitions transitions = new OfflineTransitions(store, connect, events, clock, Backoff.DEFAULT,
                config.maxAttempts(), random);
        return new BeaconApi(config, new BeaconService(config, store, connect, transitions, events, clock, random));
    }
}
