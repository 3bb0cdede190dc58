package backstop.local.it;

import backstop.beacon.BeaconWiring;
import backstop.core.config.BackstopConfig;
import backstop.core.session.DynamoSessionStore;
import backstop.core.session.Session;
import backstop.core.session.SessionId;
import backstop.core.session.SessionStore;
import backstop.core.session.SessionToken;
import backstop.core.session.DynamoTransitionStore;
import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.aws.TemplateResources;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.OperationFault;
import backstop.local.connect.Quota;
import backstop.local.iam.AwsActionRecorder;
import backstop.reconciler.Reconciler;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static backstop.local.iam.AwsActionRecorder.BEACON;
import static backstop.local.iam.AwsActionRecorder.RECONCILER;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * IAM granted = IAM used, per function. Used: every AWS action each function's code made AWS check in this test
 * JVM ({@link AwsActionRecorder}: the whole integration suite, which runs before this class, and a walk of
 * every path of both functions here, so the test also stands alone). Granted: the statements of each function's
 * role in the CloudFormation that AWS SAM's own translator makes of template.yaml, policy templates expanded.
 * Nothing used and not granted (a deploy that fails at the first close), nothing granted and never used.
 */
@Order(Integer.MAX_VALUE) // last: junit-platform.properties orders classes by @Order
class IamGrantedEqualsUsedTest {
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

    @Test
    void eachFunctionsRole_should_grantExactlyTheActionsItsCodeCalls() throws Exception {
        walkEveryPath();

        Map<String, Set<String>> used = AwsActionRecorder.used();
        Map<String, Set<String>> granted = granted();
        System.out.printf("IAM actions used: %s%nIAM actions granted: %s%n", used, granted);

        assertThat(used.get(BEACON)).as("BeaconFunction: used = granted").isEqualTo(granted.get(BEACON));
        assertThat(used.get(RECONCILER)).as("ReconcilerFunction: used = granted").isEqualTo(granted.get(RECONCILER));
    }

    /**
     * The resource types the Service Authorization Reference lists for each Amazon Connect action the functions
     * call, all of them required (marked *), and where each type's ARN sits under the instance's: "Actions,
     * resources, and condition keys for Amazon Connect",
     * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonconnect.html (the Actions
     * table's Resource types column; the Resource types table's ARNs). A policy that names resources must name a
     * pattern for every required type, and the instance only where the action lists it (GetCurrentUserData does
     * not). A Connect call added to the code without its row here fails the test.
     */
    static final Map<String, Set<String>> CONNECT_RESOURCE_TYPES = Map.of(
            "connect:PutUserStatus", Set.of("agent-status", "instance", "user"),
            "connect:GetCurrentUserData", Set.of("hierarchy-group", "queue", "routing-profile", "user"),
            "connect:ListAgentStatuses", Set.of("wildcard-agent-status"),
            "connect:DescribeUser", Set.of("user"));
    /** Each type's ARN after the instance's own, arn:${Partition}:connect:${Region}:${Account}:instance/${InstanceId}. */
    static final Map<String, String> CONNECT_ARN_AFTER_INSTANCE = Map.of(
            "instance", "",
            "user", "/agent/*",
            "agent-status", "/agent-state/*",
            "wildcard-agent-status", "/agent-state/*",
            "routing-profile", "/routing-profile/*",
            "queue", "/queue/*",
            "hierarchy-group", "/agent-group/*");

    @Test
    void connectGrants_should_nameEveryResourceTypeTheServiceAuthorizationReferenceRequires_andNoOther() throws Exception {
        Map<String, Map<String, Set<String>>> granted = grantedConnectResources();

        assertThat(granted).containsOnlyKeys(BEACON, RECONCILER);
        granted.forEach((function, actions) -> actions.forEach((action, resources) -> {
            assertThat(CONNECT_RESOURCE_TYPES).as("%s calls %s: its resource types, from the reference", function, action)
                    .containsKey(action);
            Set<String> required = new TreeSet<>();
            CONNECT_RESOURCE_TYPES.get(action).forEach(type -> required.add(CONNECT_ARN_AFTER_INSTANCE.get(type)));
            assertThat(resources).as("%s: %s on", function, action).isEqualTo(required);
        }));
        assertThat(granted.get(RECONCILER)).containsKey("connect:GetCurrentUserData");
    }

    /** For each function and Connect action, the resources its role names, as the part after the instance's ARN. */
    static Map<String, Map<String, Set<String>>> grantedConnectResources() throws Exception {
        JsonNode template = translated();
        Map<String, Map<String, Set<String>>> granted = new java.util.TreeMap<>();
        for (String function : Set.of(BEACON, RECONCILER)) {
            Map<String, Set<String>> byAction = new java.util.TreeMap<>();
            for (JsonNode policy : template.path("Resources").path(function + "Role").path("Properties").path("Policies")) {
                for (JsonNode statement : policy.path("PolicyDocument").path("Statement")) {
                    for (JsonNode action : list(statement.path("Action"))) {
                        if (!action.asText().startsWith("connect:")) {
                            continue;
                        }
                        for (JsonNode resource : list(statement.path("Resource"))) {
                            byAction.computeIfAbsent(action.asText(), a -> new TreeSet<>()).add(afterInstance(resource));
                        }
                    }
                }
            }
            granted.put(function, byAction);
        }
        return granted;
    }

    /** "" for !Ref ConnectInstanceArn, "/agent/*" for !Sub '${ConnectInstanceArn}/agent/*'; anything else fails. */
    static String afterInstance(JsonNode resource) {
        if (resource.path("Ref").asText().equals("ConnectInstanceArn")) {
            return "";
        }
        String sub = resource.path("Fn::Sub").asText();
        assertThat(sub).as("a Connect resource under the instance: %s", resource).startsWith("${ConnectInstanceArn}/");
        return sub.substring("${ConnectInstanceArn}".length());
    }

    /** Both functions through register, heartbeat, close (done, not-needed, pending), restore, retry, stale sweep, priming. */
    static void walkEveryPath() {
        String ada = newAgent();
        ApiClient.Session first = api.open(arn(ada));
        ApiClient.Session second = api.open(arn(ada));
        assertThat(api.heartbeat(first).status()).isEqualTo(200);
        assertThat(api.close(first).text("offline")).isEqualTo("not-needed");
        assertThat(api.close(second).text("offline")).isEqualTo("done");
        assertThat(api.register(arn(ada)).body().path("restore").path("name").asText()).isEqualTo("Available");

        String kept = newAgent(); // EventBridge refuses its event: kept on the table, sent by the sweep below
        ApiClient.Session refused = api.open(arn(kept));
        stack.events().refuse(true);
        assertThat(api.close(refused).text("offline")).isEqualTo("done");
        stack.events().refuse(false);

        String grace = newAgent();
        ApiClient.Session failing = api.open(arn(grace));
        stack.connect().setFault(ConnectEmulator.PUT_USER_STATUS, OperationFault.errors(1.0));
        assertThat(api.close(failing).text("offline")).isEqualTo("pending");
        stack.connect().clearFaults();

        // Known since long ago: the routing profile on the agent item is older than 12 h, so the session's exemption is
        // unknown and its close reads it from GetCurrentUserData.
        String known = newAgent();
        assertThat(api.close(api.open(arn(known))).text("offline")).isEqualTo("done");
        stack.clients().dynamoDb().updateItem(r -> r.tableName(stack.config().sessionsTable())
                .key(Map.of("pk", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("AGENT#" + stack.instanceId() + "#" + known),
                        "sk", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("AGENT")))
                .updateExpression("SET profileCheckedAt = :long_ago REMOVE lastClose")
                .expressionAttributeValues(Map.of(":long_ago", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromN("0"))));
        stack.connect().setStatusFromCcp(stack.instanceId(), known, stack.connect().statusId(stack.instanceId(),
                backstop.local.connect.AgentStatusType.ROUTABLE));
        assertThat(api.close(api.open(arn(known))).text("offline")).isEqualTo("done");
        // GetCurrentUserData failing (beacon and reconciler alike): the beacon hands over, and the reconciler, without
        // the bulk answer, asks DescribeUser for this agent's routing profile before setting them Offline.
        stack.connect().setStatusFromCcp(stack.instanceId(), known, stack.connect().statusId(stack.instanceId(),
                backstop.local.connect.AgentStatusType.ROUTABLE));
        stack.connect().setFault(ConnectEmulator.GET_CURRENT_USER_DATA, OperationFault.errors(1.0));
        assertThat(api.close(api.open(arn(known))).text("offline")).isEqualTo("pending");

        String linus = newAgent();
        api.open(arn(linus));
        MutableClock clock = new MutableClock(Instant.now().plus(Duration.ofSeconds(stack.config().staleAfterSeconds() + 60)));
        Map<String, String> env = new HashMap<>(stack.environment());
        env.put("CONNECT_RATE_PER_SECOND", "100");
        // A heartbeat lands while the sweep closes this one: the close reads the session again (GetItem).
        String racer = newAgent();
        ApiClient.Session racing = api.open(arn(racer));
        DynamoSessionStore sessions = new DynamoSessionStore(stack.reconcilerClients().dynamoDb(), stack.config().sessionsTable());
        SessionStore heartbeatDuringClose = (SessionStore) java.lang.reflect.Proxy.newProxyInstance(SessionStore.class.getClassLoader(),
                new Class<?>[] {SessionStore.class}, (proxy, method, args) -> {
                    if (method.getName().equals("close") && ((Session) args[0]).id().value().equals(racing.id())) {
                        sessions.heartbeat(new SessionId(racing.id()), SessionToken.parse(racing.token()), Optional.empty(), clock.instant());
                    }
                    try {
                        return method.invoke(sessions, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        ReconcilerWiring.Primed reconciler = ReconcilerWiring.withPriming(BackstopConfig.fromEnvironment(env), heartbeatDuringClose,
                new DynamoTransitionStore(stack.reconcilerClients().dynamoDb(), stack.config().sessionsTable()), stack.reconcilerClients(), clock,
                wake -> { }, ReconcilerMetrics.NONE);
        Reconciler.Summary summary = reconciler.reconciler().sweepOnce();
        stack.connect().clearFaults();
        assertThat(stack.connect().agentView(stack.instanceId(), known).statusName()).isEqualTo("Offline");
        assertThat(summary.staleClosed()).as("linus and ada's reopened session").isGreaterThanOrEqualTo(1);
        assertThat(stack.connect().agentView(stack.instanceId(), grace).statusName()).isEqualTo("Offline");
        assertThat(stack.connect().agentView(stack.instanceId(), linus).statusName()).isEqualTo("Offline");
        assertThat(stack.events().events("Agent Set Offline", "userId", kept)).as("the kept event, sent by the sweep").hasSize(1);

        reconciler.priming().prime();
        BeaconWiring.beacon(stack.config(), stack.clients(), clock).priming().prime();
    }

    /** "dynamodb:GetItem on table", "connect:PutUserStatus on *"... for each function, from SAM's translation. */
    static Map<String, Set<String>> granted() throws Exception {
        JsonNode template = translated();
        Map<String, Set<String>> granted = new HashMap<>();
        for (String function : Set.of(BEACON, RECONCILER)) {
            Set<String> actions = new TreeSet<>();
            for (JsonNode policy : template.path("Resources").path(function + "Role").path("Properties").path("Policies")) {
                for (JsonNode statement : policy.path("PolicyDocument").path("Statement")) {
                    assertThat(statement.path("Effect").asText()).isEqualTo("Allow");
                    for (JsonNode action : list(statement.path("Action"))) {
                        actions.addAll(scopes(action.asText(), list(statement.path("Resource"))));
                    }
                }
            }
            granted.put(function, actions);
        }
        return granted;
    }

    /** What AWS SAM's own translator makes of template.yaml. */
    static JsonNode translated() throws Exception {
        Path script = Path.of(IamGrantedEqualsUsedTest.class.getResource("/sam/translate.py").toURI());
        Process translate = new ProcessBuilder("python3", script.toString(), TemplateResources.findTemplate().toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        // All of it before parsing: the parser closes the pipe after the JSON, and the script's last newline would
        // then fail with a broken pipe (one run in a few did).
        JsonNode template = new ObjectMapper().readTree(translate.getInputStream().readAllBytes());
        assertThat(translate.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(translate.exitValue()).as("SAM's translator accepts template.yaml").isZero();
        return template;
    }

    /**
     * DynamoDB grants are told apart by resource (the table, or its indexes); the others by action alone (Connect's
     * resources are checked against the reference's resource types instead, above).
     */
    static Set<String> scopes(String action, Iterable<JsonNode> resources) {
        Set<String> scoped = new TreeSet<>();
        if (!action.startsWith("dynamodb:")) {
            scoped.add(action + " on " + AwsActionRecorder.ANY);
            return scoped;
        }
        for (JsonNode resource : resources) {
            scoped.add(action + " on " + (resource.toString().contains("/index/") ? AwsActionRecorder.ON_INDEX : AwsActionRecorder.ON_TABLE));
        }
        return scoped;
    }

    static Iterable<JsonNode> list(JsonNode node) {
        return node.isArray() ? node : java.util.List.of(node);
    }

    static String newAgent() {
        String userId = "iam-" + UUID.randomUUID();
        stack.connect().addAgent(stack.instanceId(), userId, userId, "Iam", "Agent", "rp-sales", "Available");
        return userId;
    }

    static String arn(String userId) {
        return DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + userId;
    }
}
