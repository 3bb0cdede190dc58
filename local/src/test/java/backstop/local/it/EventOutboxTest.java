package backstop.local.it;

import backstop.beacon.BeaconApi;
import backstop.beacon.BeaconWiring;
import backstop.core.aws.AwsClients;
import backstop.core.events.OutboxRelay;
import backstop.core.http.HttpRequest;
import backstop.core.http.HttpResponse;
import backstop.core.session.DynamoTransitionStore;
import backstop.core.session.SessionId;
import backstop.core.transition.Transition;
import backstop.core.transition.TransitionState;
import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.Waits;
import backstop.local.connect.AgentStatusType;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.connect.ConnectClient;
import software.amazon.awssdk.services.connect.model.DescribeUserRequest;
import software.amazon.awssdk.services.connect.model.DescribeUserResponse;
import software.amazon.awssdk.services.connect.model.GetCurrentUserDataRequest;
import software.amazon.awssdk.services.connect.model.GetCurrentUserDataResponse;
import software.amazon.awssdk.services.connect.model.ListAgentStatusesRequest;
import software.amazon.awssdk.services.connect.model.ListAgentStatusesResponse;
import software.amazon.awssdk.services.connect.model.PutUserStatusRequest;
import software.amazon.awssdk.services.connect.model.PutUserStatusResponse;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.DeleteItemRequest;
import software.amazon.awssdk.services.dynamodb.model.DeleteItemResponse;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.PutItemResponse;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsResponse;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemResponse;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequest;
import software.amazon.awssdk.services.eventbridge.model.PutEventsResponse;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * Every outcome that reports an event gets it, whatever stops in between. The event's row is written with the
 * outcome in one transaction (the transactional outbox) and deleted once published; the reconciler relays rows
 * left behind after {@link OutboxRelay#RELAY_AFTER}. Crash injection: the process stops (an {@link Error} nothing
 * catches, as a time-out or a kill ends a Lambda) between the outcome's write and the publish, and between the
 * relay's publish and its delete; consumers see one {@code eventId} per outcome however many deliveries.
 */
class EventOutboxTest {
    static LocalStack stack;
    static ApiClient api;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests());
        stack.connect().setQuota(Quota.OFF);
        api = new ApiClient(stack);
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    @AfterEach
    void eventBridgeUp() {
        stack.events().refuse(false);
        connectHealthy();
    }

    static void connectHealthy() {
        stack.connect().clearFaults();
        stack.connect().setQuota(Quota.OFF);
    }

    /** The process stopped here: nothing after it runs, and nothing in the code catches it. */
    static final class ProcessStopped extends Error {
        ProcessStopped(String where) {
            super(where);
        }
    }

    /** The agent's rows in the outbox (the tests share one table, and a relay sends every test's rows). */
    static List<Map<String, AttributeValue>> kept(String user) {
        return stack.clients().dynamoDb().query(r -> r.tableName(stack.config().sessionsTable())
                .keyConditionExpression("pk = :pk").expressionAttributeValues(Map.of(":pk", AttributeValue.fromS("OUTBOX")))
                .consistentRead(true)).items().stream().filter(item -> item.get("detail").s().contains("\"" + user + "\"")).toList();
    }

    static List<JsonNode> setOffline(String user) {
        return stack.events().events("Agent Set Offline", "userId", user);
    }

    /** A reconciler sweep with its clock {@code ahead} of now (the relay sends only rows older than its grace). */
    static void sweep(Duration ahead, AwsClients clients) {
        ReconcilerWiring.reconciler(stack.config(), clients, Clock.offset(Clock.systemUTC(), ahead), wake -> { },
                ReconcilerMetrics.NONE).sweepOnce();
    }

    static final Duration PAST_GRACE = OutboxRelay.RELAY_AFTER.plusSeconds(5);

    static String newAgent(String prefix) {
        String user = prefix + "-" + UUID.randomUUID();
        stack.connect().addAgent(stack.instanceId(), user, user, "Outbox", "Agent", "rp-sales", "Available");
        return user;
    }

    static ApiClient.Session open(String user) {
        return api.open(DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + user);
    }

    /** The close route of a beacon built on {@code clients} (the stack's own, with one of them replaced). */
    static HttpResponse closeWith(AwsClients clients, ApiClient.Session session) {
        BeaconApi beacon = BeaconWiring.api(stack.config(), clients, Clock.systemUTC());
        return beacon.handle(new HttpRequest(BeaconApi.CLOSE, Map.of("sessionId", session.id()),
                Map.of("content-type", "text/plain;charset=UTF-8"),
                ("{\"token\":\"" + session.token() + "\",\"reason\":\"pagehide\"}").getBytes(StandardCharsets.UTF_8)));
    }

    /** A session whose close Connect answered {@code status} (the transition waits for the reconciler); Connect healthy after. */
    static ApiClient.Session closedPending(String user, int status) {
        ApiClient.Session session = open(user);
        stack.connect().setUserFault(user, status);
        assertThat(api.close(session).text("offline")).isEqualTo("pending");
        connectHealthy();
        return session;
    }

    static Transition transition(ApiClient.Session session) {
        return new DynamoTransitionStore(stack.clients().dynamoDb(), stack.config().sessionsTable())
                .findTransition(new SessionId(session.id())).orElseThrow();
    }

    /** A beacon whose process stops at its first PutEvents: after the outcome is written, before anything is published. */
    static AwsClients stoppingAtPublish() {
        AwsClients c = stack.clients();
        return new AwsClients(c.dynamoDb(), new EventBridgeClient() {
            @Override public PutEventsResponse putEvents(PutEventsRequest request) { throw new ProcessStopped("before PutEvents"); }
            @Override public String serviceName() { return "events"; }
            @Override public void close() { }
        }, c.connect(), c.httpClient());
    }

    @Test
    void refusedEvent_should_beKeptOnTheTable_andPublishedByTheFirstSweepAfterTheGrace_withItsOriginalTime() {
        String user = newAgent("outbox");
        ApiClient.Session session = open(user);
        stack.events().refuse(true);

        assertThat(api.close(session).text("offline")).as("the Offline itself does not depend on EventBridge").isEqualTo("done");

        assertThat(setOffline(user)).isEmpty();
        List<Map<String, AttributeValue>> kept = kept(user);
        assertThat(kept).singleElement().satisfies(item -> {
            assertThat(item.get("detailType").s()).isEqualTo("Agent Set Offline");
            assertThat(item.get("detail").s()).contains(user);
        });
        Instant happened = Instant.ofEpochMilli(Long.parseLong(kept.getFirst().get("eventTime").n()));

        sweep(PAST_GRACE, stack.reconcilerClients());
        assertThat(setOffline(user)).as("still refused: still kept").isEmpty();
        assertThat(kept(user)).hasSize(1);

        stack.events().refuse(false);
        sweep(Duration.ZERO, stack.reconcilerClients());
        assertThat(setOffline(user)).as("within the grace the writer may still publish it: the relay leaves it").isEmpty();

        sweep(PAST_GRACE, stack.reconcilerClients());
        await().atMost(Waits.PROMPT).untilAsserted(() ->
                assertThat(setOffline(user)).singleElement().satisfies((JsonNode e) -> {
                    assertThat(Instant.parse(e.path("time").asText())).as("the time it happened, not the time it was sent").isEqualTo(happened);
                    assertThat(e.path("detail").path("sessionId").asText()).isEqualTo(session.id());
                }));
        assertThat(kept(user)).as("forgotten once published").isEmpty();
    }

    @Test
    void beaconStoppedBetweenTheOutcomeAndThePublish_should_leaveTheEventsRow_andTheRelayPublishesItOnce() {
        String user = newAgent("stopped-beacon");
        ApiClient.Session session = open(user);

        assertThatThrownBy(() -> closeWith(stoppingAtPublish(), session)).isInstanceOf(ProcessStopped.class);

        assertThat(stack.connect().agentView(stack.instanceId(), user).statusType()).isEqualTo(AgentStatusType.OFFLINE);
        assertThat(transition(session).state()).isEqualTo(TransitionState.DONE);
        assertThat(setOffline(user)).as("nothing published before the stop").isEmpty();
        assertThat(kept(user)).as("the row written with DONE, in its transaction").singleElement()
                .satisfies(item -> assertThat(item.get("detail").s()).contains(session.id()));

        sweep(PAST_GRACE, stack.reconcilerClients());
        sweep(PAST_GRACE.plusMinutes(1), stack.reconcilerClients());

        assertThat(setOffline(user)).as("published once, by the relay").singleElement().satisfies(e -> {
            assertThat(e.path("detail").path("eventId").asText()).isNotBlank();
            assertThat(e.path("detail").path("reason").asText()).isEqualTo("tab-closed");
        });
        assertThat(kept(user)).isEmpty();
    }

    @Test
    void restoringRegisterStoppedBeforeThePublish_should_leaveTheRestoredEventsRow_andTheRelayPublishesItOnce() {
        String user = newAgent("stopped-restore");
        String agentArn = DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + user;
        assertThat(api.close(open(user)).text("offline")).isEqualTo("done"); // a reload: the close set Offline...
        BeaconApi beacon = BeaconWiring.api(stack.config(), stoppingAtPublish(), Clock.systemUTC());

        // ...and the reloaded page's register takes the restore, then its process stops before PutEvents.
        assertThatThrownBy(() -> beacon.handle(new HttpRequest(BeaconApi.REGISTER, Map.of(),
                Map.of("content-type", "text/plain;charset=UTF-8"),
                ("{\"agentArn\":\"" + agentArn + "\"}").getBytes(StandardCharsets.UTF_8),
                Map.of(stack.config().agentIdentityClaim(), user)))).isInstanceOf(ProcessStopped.class);

        List<JsonNode> before = stack.events().events("Agent Status Restored", "agentArn", agentArn);
        assertThat(before).as("nothing published before the stop").isEmpty();
        List<Map<String, AttributeValue>> rows = stack.clients().dynamoDb().query(r -> r.tableName(stack.config().sessionsTable())
                .keyConditionExpression("pk = :pk").expressionAttributeValues(Map.of(":pk", AttributeValue.fromS("OUTBOX")))
                .consistentRead(true)).items().stream().filter(item -> item.get("detailType").s().equals("Agent Status Restored")
                        && item.get("detail").s().contains(agentArn)).toList();
        assertThat(rows).as("the row written with the restore it reports").hasSize(1);

        sweep(PAST_GRACE, stack.reconcilerClients());
        sweep(PAST_GRACE.plusMinutes(1), stack.reconcilerClients());

        await().atMost(Waits.PROMPT).untilAsserted(() ->
                assertThat(stack.events().events("Agent Status Restored", "agentArn", agentArn)).as("published once, by the relay")
                        .singleElement().satisfies(e -> assertThat(e.path("detail").path("statusName").asText()).isEqualTo("Available")));
    }

    @Test
    void relayStoppedBetweenItsPublishAndItsDelete_should_sendItAgainLater_underTheSameEventId() {
        sweep(PAST_GRACE, stack.reconcilerClients()); // other tests' rows out of the way: ours is the relay's first
        String user = newAgent("stopped-relay");
        ApiClient.Session session = open(user);
        assertThatThrownBy(() -> closeWith(stoppingAtPublish(), session)).isInstanceOf(ProcessStopped.class);
        assertThat(kept(user)).hasSize(1);

        AwsClients r = stack.reconcilerClients();
        AwsClients stoppingAtDelete = new AwsClients(new StoppingAtOutboxDelete(r.dynamoDb()), r.eventBridge(), r.connect(), r.httpClient());
        assertThatThrownBy(() -> sweep(PAST_GRACE, stoppingAtDelete)).isInstanceOf(ProcessStopped.class);
        assertThat(setOffline(user)).as("published, then the process stopped").hasSize(1);
        assertThat(kept(user)).as("its row not deleted").hasSize(1);

        sweep(PAST_GRACE, stack.reconcilerClients());
        sweep(PAST_GRACE.plusMinutes(1), stack.reconcilerClients());

        List<JsonNode> deliveries = setOffline(user);
        assertThat(deliveries).as("at least once: delivered again by the next relay, then forgotten").hasSize(2);
        assertThat(deliveries).extracting(e -> e.path("detail").path("eventId").asText())
                .as("one eventId for the one outcome: what consumers deduplicate on").containsOnly(deliveries.getFirst()
                        .path("detail").path("eventId").asText());
        assertThat(deliveries).extracting(e -> e.path("id").asText()).as("EventBridge's own id differs per PutEvents")
                .doesNotHaveDuplicates();
        assertThat(kept(user)).isEmpty();
    }

    @Test
    void reconcilerStoppedBetweenTheOutcomeAndThePublish_should_leaveTheRow_forTheNextRunsRelay() {
        String user = newAgent("stopped-reconciler");
        ApiClient.Session session = closedPending(user, 500);

        AwsClients r = stack.reconcilerClients();
        AwsClients stopping = new AwsClients(r.dynamoDb(), stoppingAtPublish().eventBridge(), r.connect(), r.httpClient());
        // The batch goes out on the sender thread: the stop ends that thread, the run then ends with nothing sent.
        assertThat(catchThrowable(() -> sweep(Duration.ofMinutes(1), stopping))).satisfiesAnyOf(
                thrown -> assertThat(thrown).isNull(), thrown -> assertThat(thrown).isInstanceOf(ProcessStopped.class));
        assertThat(transition(session).state()).isEqualTo(TransitionState.DONE);
        assertThat(setOffline(user)).isEmpty();
        assertThat(kept(user)).hasSize(1);

        sweep(Duration.ofMinutes(1).plus(PAST_GRACE), stack.reconcilerClients());

        assertThat(setOffline(user)).singleElement()
                .satisfies(e -> assertThat(e.path("detail").path("reason").asText()).isEqualTo("retry"));
        assertThat(kept(user)).isEmpty();
    }

    @Test
    void retryFindingTheAgentOffline_should_publishAgentSetOffline_when_theBeaconsCallLandedButItsAnswerWasLost() {
        String user = newAgent("answer-lost");
        ApiClient.Session session = open(user);
        AwsClients c = stack.clients();
        AwsClients answerLost = new AwsClients(c.dynamoDb(), c.eventBridge(), new AnswerLostConnect(c.connect()), c.httpClient());

        HttpResponse closed = closeWith(answerLost, session);

        assertThat(closed.body()).isEqualTo("{\"offline\":\"pending\"}");
        assertThat(stack.connect().agentView(stack.instanceId(), user).statusType()).as("the call landed")
                .isEqualTo(AgentStatusType.OFFLINE);
        assertThat(transition(session).callMayHaveLanded()).isTrue();
        int putsBefore = stack.connect().calls(ConnectEmulator.PUT_USER_STATUS).size();

        sweep(Duration.ofMinutes(1), stack.reconcilerClients());

        assertThat(stack.connect().calls(ConnectEmulator.PUT_USER_STATUS)).as("no second PutUserStatus: Connect shows Offline").hasSize(putsBefore);
        assertThat(transition(session).state()).isEqualTo(TransitionState.DONE);
        assertThat(setOffline(user)).singleElement().satisfies(e -> {
            assertThat(e.path("detail").path("attempts").asInt()).as("the attempt that landed").isEqualTo(1);
            assertThat(e.path("detail").path("reason").asText()).isEqualTo("tab-closed");
        });
        assertThat(kept(user)).isEmpty();
    }

    @Test
    void retryFindingTheAgentOffline_should_publishNothing_when_noCallCanHaveLanded() {
        String user = newAgent("set-by-hand");
        ApiClient.Session session = closedPending(user, 429);
        stack.connect().setStatusFromCcp(stack.instanceId(), user, stack.connect().statusId(stack.instanceId(), AgentStatusType.OFFLINE));

        sweep(Duration.ofMinutes(1), stack.reconcilerClients());

        assertThat(transition(session).state()).isEqualTo(TransitionState.NOT_NEEDED);
        assertThat(setOffline(user)).as("throttled: the call did not land; the agent went Offline otherwise").isEmpty();
    }

    /** PutUserStatus reaches Connect and lands, then its answer is lost (a read time-out). */
    record AnswerLostConnect(ConnectClient delegate) implements ConnectClient {
        @Override public PutUserStatusResponse putUserStatus(PutUserStatusRequest request) {
            delegate.putUserStatus(request);
            throw SdkClientException.create("Read timed out");
        }
        @Override public ListAgentStatusesResponse listAgentStatuses(ListAgentStatusesRequest request) { return delegate.listAgentStatuses(request); }
        @Override public DescribeUserResponse describeUser(DescribeUserRequest request) { return delegate.describeUser(request); }
        @Override public GetCurrentUserDataResponse getCurrentUserData(GetCurrentUserDataRequest request) { return delegate.getCurrentUserData(request); }
        @Override public String serviceName() { return delegate.serviceName(); }
        @Override public void close() { }
    }

    /** The reconciler's DynamoDB, whose process stops at the relay's delete of a published row. */
    record StoppingAtOutboxDelete(DynamoDbClient delegate) implements DynamoDbClient {
        @Override public DeleteItemResponse deleteItem(DeleteItemRequest request) {
            if (request.key().get("pk").s().equals("OUTBOX")) {
                throw new ProcessStopped("before the outbox row's DeleteItem");
            }
            return delegate.deleteItem(request);
        }
        @Override public GetItemResponse getItem(GetItemRequest request) { return delegate.getItem(request); }
        @Override public PutItemResponse putItem(PutItemRequest request) { return delegate.putItem(request); }
        @Override public UpdateItemResponse updateItem(UpdateItemRequest request) { return delegate.updateItem(request); }
        @Override public QueryResponse query(QueryRequest request) { return delegate.query(request); }
        @Override public BatchGetItemResponse batchGetItem(BatchGetItemRequest request) { return delegate.batchGetItem(request); }
        @Override public TransactWriteItemsResponse transactWriteItems(TransactWriteItemsRequest request) { return delegate.transactWriteItems(request); }
        @Override public String serviceName() { return delegate.serviceName(); }
        @Override public void close() { }
    }
}
