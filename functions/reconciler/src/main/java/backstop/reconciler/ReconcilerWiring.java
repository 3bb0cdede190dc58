package backstop.reconciler;

import backstop.core.aws.AwsClients;
import backstop.core.config.BackstopConfig;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.events.BatchingEventPublisher;
import backstop.core.events.EventBridgePublisher;
import backstop.core.random.RestoreSafeRandom;
import backstop.core.events.OutboxPublisher;
import backstop.core.events.OutboxRelay;
import backstop.core.session.DynamoConnectBudget;
import backstop.core.session.DynamoEventOutbox;
import backstop.core.session.DynamoOutageLedger;
import backstop.core.session.DynamoRefusedHeartbeats;
import backstop.core.session.DynamoSessionStore;
import backstop.core.session.DynamoTransitionStore;
import backstop.core.session.SessionStore;
import backstop.core.transition.Backoff;
import backstop.core.transition.OfflineTransitions;
import backstop.core.transition.TransitionQueue;

import java.time.Clock;
import java.time.Duration;

/** Builds the reconciler's object graph by hand. */
public final class ReconcilerWiring {
    private ReconcilerWiring() {
    }

    public static Reconciler reconciler(BackstopConfig config, AwsClients clients, Clock clock,
                                        Reconciler.Sleeper sleeper, ReconcilerMetrics metrics) {
        return reconciler(config, new DynamoSessionStore(clients.dynamoDb(), config.sessionsTable()),
                new DynamoTransitionStore(clients.dynamoDb(), config.sessionsTable()), clients, clock, sleeper, metrics);
    }

    public static Reconciler reconciler(BackstopConfig config, SessionStore sessions, TransitionQueue queue, AwsClients clients,
                                        Clock clock, Reconciler.Sleeper sleeper, ReconcilerMetrics metrics) {
        return withPriming(config, sessions, queue, clients, clock, sleeper, metrics).reconciler();
    }

    /** The reconciler and its SnapStart hooks, sharing one graph. */
    public record Primed(Reconciler reconciler, ReconcilerPriming priming) {
    }

    public static Primed withPriming(BackstopConfig config, SessionStore sessions, TransitionQueue queue, AwsClients clients,
                                     Clock clock, Reconciler.Sleeper sleeper, ReconcilerMetrics metrics) {
        // The same budget as the beacons' (one item an operation on the table): together under the configured share.
        ConnectAgentStatus connect = new ConnectAgentStatus(clients.connect(), config.connectInstance(),
                DynamoConnectBudget.withLocalFallback(clients.dynamoDb(), config.sessionsTable(), config.connectRatePerSecond()));
        EventBridgePublisher eventBridge = new EventBridgePublisher(clients.eventBridge(), config.eventBusName(), clock);
        DynamoEventOutbox outbox = new DynamoEventOutbox(clients.dynamoDb(), config.sessionsTable());
        OutboxPublisher direct = new OutboxPublisher(eventBridge, outbox);
        BatchingEventPublisher events = new BatchingEventPublisher(direct);
        RestoreSafeRandom random = new RestoreSafeRandom();
        OfflineTransitions transitions = new OfflineTransitions(queue, connect, events, clock, Backoff.DEFAULT,
                config.maxAttempts(), random, config.exemptRoutingProfileIds());
        Reconciler reconciler = new Reconciler(queue,
                // The outage's events go out at once (kept in the outbox if EventBridge refuses), not with a chunk's batch.
                new StaleSessionSweep(sessions, Duration.ofSeconds(config.staleAfterSeconds()), new HeartbeatOutageBrake(
                        new DynamoOutageLedger(clients.dynamoDb(), config.sessionsTable()),
                        new DynamoRefusedHeartbeats(clients.dynamoDb(), config.sessionsTable()), direct, metrics, config.outageBrake(),
                        Duration.ofSeconds(config.heartbeatSeconds()), Duration.ofSeconds(config.staleAfterSeconds()))),
                new DueTransitionSweep(sessions, queue, connect, transitions, events, metrics, clock, config.connectRatePerSecond()),
                new OutboxRelay(outbox, eventBridge, clock), metrics, clock, sleeper, Duration.ofSeconds(config.sweepIntervalSeconds()),
                config.connectRatePerSecond());
        return new Primed(reconciler, new ReconcilerPriming(queue, connect, clients::resolveCredentials, random, clock));
    }

    /** Sleeps on the wall clock. */
    public static Reconciler.Sleeper wallClockSleeper(Clock clock) {
        return wake -> {
            long millis = Duration.between(clock.instant(), wake).toMillis();
            if (millis > 0) {
                Thread.sleep(millis);
            }
        };
    }
}
