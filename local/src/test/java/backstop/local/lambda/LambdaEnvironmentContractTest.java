package backstop.local.lambda;

import backstop.core.agent.AgentRef;
import backstop.core.agent.InstanceRef;
import backstop.core.session.Exemption;
import backstop.core.session.NewSession;
import backstop.core.session.SessionId;
import backstop.core.session.SessionSeeder;
import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.aws.AwsEmulation;
import backstop.local.aws.TemplateResources;
import backstop.local.connect.ConnectCall;
import backstop.local.connect.ConnectEmulator;
import backstop.local.template.SamBuild;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What is deployed is what was tested: each function's built artifact (the {@code lib/} layout `sam build` makes,
 * {@link SamBuild}) runs in a child JVM started as Lambda's managed Java runtime starts a SnapStart {@code java25}
 * function ({@link LambdaProcess}: AWS's runtime interface client, Lambda's JVM flags, the handler from the template),
 * polling a local Runtime API ({@link LambdaRuntimeApi}) that hands it the {@code events/} fixtures, with exactly
 * the environment Lambda gives such a function ({@link #lambdaEnvironment}): no access-key variables, the role's
 * credentials from a local container credentials endpoint that checks its authorization token
 * ({@link ContainerCredentialsEndpoint}). The runtime runs the SnapStart hooks (priming, then the restore); every
 * connection opened before the "snapshot" is dropped before the restore ({@link DroppingProxy}), as a real restore
 * leaves them dead; then a real register and close through the production handler reach moto and the Connect
 * emulator signed with the served credentials, for the Region of the Connect instance's ARN.
 * <p>
 * One difference from AWS, and only one: the SDK is pointed at the proxies through
 * {@code AWS_ENDPOINT_URL_DYNAMODB}, {@code AWS_ENDPOINT_URL_EVENTBRIDGE} and {@code AWS_ENDPOINT_URL_CONNECT},
 * settings the SDK itself reads and the template never sets.
 */
class LambdaEnvironmentContractTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** A Connect instance in another Region than the stack's: the Connect client must follow the instance's ARN. */
    static final String CONNECT_REGION = "eu-central-1";
    static final String INSTANCE = "00000000-0000-4000-8000-0000000000ec";

    static LocalStack stack;
    static ContainerCredentialsEndpoint credentials;
    static DroppingProxy moto;
    static DroppingProxy connect;
    static DroppingProxy credentialsProxy;
    static TemplateResources template;
    @TempDir
    static Path work;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests().withOutageBrake()); // the template's defaults throughout
        stack.connect().createInstance(INSTANCE, CONNECT_REGION, DemoInstance.ACCOUNT_ID);
        credentials = new ContainerCredentialsEndpoint(Duration.ofHours(6));
        moto = new DroppingProxy(AwsEmulation.shared().endpoint());
        connect = new DroppingProxy(stack.connect().endpoint());
        credentialsProxy = new DroppingProxy(java.net.URI.create("http://127.0.0.1:" + credentials.port()));
        template = TemplateResources.load(SamBuild.ROOT.resolve("template.yaml"));
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable closeable : new AutoCloseable[] {credentialsProxy, connect, moto, credentials, stack}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception ignored) {
                // stopping
            }
        }
    }

    @Test
    void beacon_should_primeRestoreAndClose_withTheRuntimesContainerCredentials_inTheInstancesRegion() throws Exception {
        String userId = "ctr-" + UUID.randomUUID().toString().substring(0, 8);
        stack.connect().addAgent(INSTANCE, userId, userId, "Contract", "Agent", "rp-sales", "Available");
        int refusedBefore = credentials.refused();
        // What the snapshot holds expires before the restore, as a snapshot restored hours later finds it: the
        // SDK takes credentials for stale a minute before they expire, so the first call after the restore fetches anew.
        credentials.lifetime(Duration.ofSeconds(61));
        try (LambdaRuntimeApi runtime = new LambdaRuntimeApi(functionArn("BeaconFunction"));
             LambdaProcess beacon = start("BeaconFunction", runtime, credentials.authorizationToken())) {

            assertThat(runtime.awaitCheckpoint(Duration.ofSeconds(90), beacon::isAlive))
                    .as("the runtime primed the function and asked to be restored; init errors %s; output:%n%s",
                            runtime.initErrors(), beacon.output()).isTrue();
            List<String> primedWith = credentials.accessKeyIds();
            assertThat(primedWith).as("priming resolved the role's credentials from the endpoint").isNotEmpty();
            credentials.lifetime(Duration.ofHours(6));
            assertThat(stack.connect().calls(ConnectEmulator.LIST_AGENT_STATUSES)).as("priming read Connect, signed as Lambda would")
                    .filteredOn(c -> INSTANCE.equals(c.instanceId())).singleElement().satisfies(list -> {
                        assertThat(list.ok()).isTrue();
                        assertThat(list.signedRegion()).isEqualTo(CONNECT_REGION);
                        assertThat(list.accessKeyId()).isIn(credentials.accessKeyIds());
                    });
            int dropped = moto.dropAll() + connect.dropAll() + credentialsProxy.dropAll();
            assertThat(dropped).as("connections opened while priming, dropped as a restore leaves them").isPositive();
            runtime.restore();

            String agentArn = instanceArn() + "/agent/" + userId;
            LambdaRuntimeApi.Outcome registered = runtime.invoke(register(agentArn, userId), timeout("BeaconFunction"), Duration.ofSeconds(60));
            JsonNode registerResponse = response(registered, beacon);
            assertThat(registerResponse.path("statusCode").asInt()).as("register: %s", registerResponse).isEqualTo(201);
            JsonNode session = JSON.readTree(registerResponse.path("body").asText());

            int callsBefore = stack.connect().calls().size();
            LambdaRuntimeApi.Outcome closed = runtime.invoke(close(session.path("sessionId").asText(), session.path("token").asText()),
                    timeout("BeaconFunction"), Duration.ofSeconds(60));
            JsonNode closeResponse = response(closed, beacon);
            assertThat(closeResponse.path("statusCode").asInt()).as("close: %s", closeResponse).isEqualTo(202);
            assertThat(closeResponse.path("body").asText()).isEqualTo("{\"offline\":\"done\"}");
            assertThat(closed.tookMillis()).as("the close's time (ms) against the template's timeout")
                    .isLessThan(timeout("BeaconFunction").toMillis());
            // A close makes five or six calls; had a connection from before the snapshot been reused and waited out
            // its attempt (1 s DynamoDB, 2 s Connect), it would take seconds, not the usual fraction of one.
            assertThat(closed.tookMillis()).as("no call waited out an attempt on a dead connection").isLessThan(2_500);

            List<ConnectCall> puts = stack.connect().calls().subList(callsBefore, stack.connect().calls().size()).stream()
                    .filter(c -> c.operation().equals(ConnectEmulator.PUT_USER_STATUS) && userId.equals(c.userId())).toList();
            assertThat(puts).as("one PutUserStatus, at once").singleElement().satisfies(put -> {
                assertThat(put.ok()).isTrue();
                assertThat(put.signedRegion()).as("signed for the instance's Region").isEqualTo(CONNECT_REGION);
                assertThat(put.accessKeyId()).as("signed with the credentials the runtime's endpoint served")
                        .isIn(credentials.accessKeyIds());
                assertThat(put.accessKeyId()).as("fresh ones, fetched after the restore with the token").isNotIn(primedWith);
            });
            assertThat(stack.connect().agentView(INSTANCE, userId).statusName()).isEqualTo("Offline");
            assertThat(credentials.refused()).as("every credentials request carried the token").isEqualTo(refusedBefore);
            System.out.printf("Lambda environment contract: beacon primed, %d connections dropped at the restore, "
                    + "register %d ms, close %d ms, %d credential requests%n", dropped, registered.tookMillis(),
                    closed.tookMillis(), credentials.accessKeyIds().size());
        }
    }

    @Test
    void beacon_should_failItsInit_whenPrimingCannotGetCredentials() throws Exception {
        int refusedBefore = credentials.refused();
        try (LambdaRuntimeApi runtime = new LambdaRuntimeApi(functionArn("BeaconFunction"));
             LambdaProcess beacon = start("BeaconFunction", runtime, "not-the-token")) {

            // Priming retries a refusal for up to 75 s (IAM catching up with a new role) before it counts.
            assertThat(runtime.awaitInitError(Duration.ofSeconds(180), beacon::isAlive))
                    .as("the runtime reported an init error; output:%n%s", beacon.output()).isTrue();
            assertThat(String.join("\n", runtime.initErrors())).as("what the runtime reports (Lambda shows it as the init error)")
                    .contains("CheckpointException");
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(beacon.output())
                    .as("the function's log says why").contains("Priming failed").contains("credentials -> MISCONFIGURED"));
            assertThat(beacon.awaitExit(Duration.ofSeconds(30))).as("the runtime exits: Lambda publishes no version").isNotNull().isNotZero();
            assertThat(runtime.awaitCheckpoint(Duration.ZERO, () -> false)).as("no snapshot was asked for").isFalse();
            assertThat(credentials.refused()).as("the endpoint refused the wrong token").isGreaterThan(refusedBefore);
        }
    }

    @Test
    void reconciler_should_primeRestoreAndCloseAStaleSession_withTheRuntimesContainerCredentials() throws Exception {
        String userId = "ctr-" + UUID.randomUUID().toString().substring(0, 8);
        stack.connect().addAgent(INSTANCE, userId, userId, "Crashed", "Tab", "rp-sales", "Available");
        SessionSeeder.seedOpenSessions(stack.clients().dynamoDb(), stack.config().sessionsTable(), List.of(new NewSession(
                SessionId.random(new SecureRandom()), new AgentRef(InstanceRef.parseArn(instanceArn()), userId), new byte[32],
                Instant.now().minus(Duration.ofMinutes(10)), Optional.empty(), Optional.empty(), Exemption.NOT_EXEMPT,
                Optional.empty(), 4)));
        try (LambdaRuntimeApi runtime = new LambdaRuntimeApi(functionArn("ReconcilerFunction"));
             LambdaProcess reconciler = start("ReconcilerFunction", runtime, credentials.authorizationToken())) {

            assertThat(runtime.awaitCheckpoint(Duration.ofSeconds(90), reconciler::isAlive))
                    .as("the runtime primed the function and asked to be restored; init errors %s; output:%n%s",
                            runtime.initErrors(), reconciler.output()).isTrue();
            int dropped = moto.dropAll() + connect.dropAll() + credentialsProxy.dropAll();
            assertThat(dropped).as("connections opened while priming, dropped as a restore leaves them").isPositive();
            runtime.restore();

            Duration timeout = timeout("ReconcilerFunction");
            LambdaRuntimeApi.Outcome run = runtime.invoke(Files.readString(SamBuild.ROOT.resolve("events/schedule.json")),
                    timeout, timeout.plusSeconds(30));
            JsonNode summary = response(run, reconciler);
            assertThat(summary.path("staleSessionsClosed").asInt()).as("run: %s", summary).isEqualTo(1);
            assertThat(run.tookMillis()).as("the run's time (ms) against the template's timeout").isLessThan(timeout.toMillis());

            List<ConnectCall> puts = stack.connect().calls(ConnectEmulator.PUT_USER_STATUS).stream()
                    .filter(c -> userId.equals(c.userId())).toList();
            assertThat(puts).singleElement().satisfies(put -> {
                assertThat(put.ok()).isTrue();
                assertThat(put.signedRegion()).isEqualTo(CONNECT_REGION);
                assertThat(put.accessKeyId()).isIn(credentials.accessKeyIds());
            });
            assertThat(stack.connect().agentView(INSTANCE, userId).statusName()).isEqualTo("Offline");
            System.out.printf("Lambda environment contract: reconciler primed, %d connections dropped at the restore, "
                    + "run %d ms: %s%n", dropped, run.tookMillis(), summary);
        }
    }

    /** The function as Lambda starts it, from the artifact `sam build` made. */
    static LambdaProcess start(String logicalId, LambdaRuntimeApi runtime, String authorizationToken) throws Exception {
        Path taskRoot = SamBuild.artifacts().get(logicalId);
        String handler = (String) template.properties(logicalId).get("Handler");
        Path log = Files.createTempFile(work, logicalId, ".log");
        return LambdaProcess.start(taskRoot, handler, memory(logicalId),
                lambdaEnvironment(logicalId, handler, taskRoot, runtime, authorizationToken), log);
    }

    /**
     * The environment of a SnapStart java25 function, each variable from the Lambda developer guide ("Defined
     * runtime environment variables"; "Activating and managing Lambda SnapStart" for the credentials), then the
     * function's own variables (template.yaml, as the local stack resolves them), then the endpoint overrides.
     */
    static Map<String, String> lambdaEnvironment(String logicalId, String handler, Path taskRoot, LambdaRuntimeApi runtime,
                                                 String authorizationToken) {
        Map<String, String> env = new HashMap<>();
        env.put("_HANDLER", handler);
        env.put("AWS_REGION", AwsEmulation.REGION.id());
        env.put("AWS_DEFAULT_REGION", AwsEmulation.REGION.id());
        env.put("AWS_EXECUTION_ENV", "AWS_Lambda_java25");
        env.put("AWS_LAMBDA_FUNCTION_NAME", "ccp-backstop-" + logicalId);
        env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Integer.toString(memory(logicalId)));
        env.put("AWS_LAMBDA_FUNCTION_VERSION", "1"); // SnapStart runs published versions only
        env.put("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start");
        env.put("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/ccp-backstop-" + logicalId);
        env.put("AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/02/[1]" + UUID.randomUUID().toString().replace("-", ""));
        env.put("AWS_LAMBDA_LOG_FORMAT", "JSON"); // LoggingConfig.LogFormat in the template's Globals
        env.put("AWS_LAMBDA_RUNTIME_API", runtime.hostAndPort());
        env.put("LAMBDA_TASK_ROOT", taskRoot.toString());
        env.put("LAMBDA_RUNTIME_DIR", LambdaProcess.runtimeLib().getParent().toString());
        env.put("TZ", ":UTC");
        env.put("LANG", "en_US.UTF-8");
        env.put("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin");
        env.put("LD_LIBRARY_PATH", "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib");
        // SnapStart: the container credentials, and no AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or AWS_SESSION_TOKEN.
        env.put("AWS_CONTAINER_CREDENTIALS_FULL_URI", credentialsProxy.endpoint() + ContainerCredentialsEndpoint.PATH);
        env.put("AWS_CONTAINER_AUTHORIZATION_TOKEN", authorizationToken);
        // The function's own variables.
        env.putAll(stack.environment());
        env.put("CONNECT_INSTANCE_ARN", instanceArn());
        // As in Lambda, no profile files: nothing of this machine's ~/.aws reaches the function.
        env.put("AWS_CONFIG_FILE", work.resolve("no-aws-config").toString());
        env.put("AWS_SHARED_CREDENTIALS_FILE", work.resolve("no-aws-credentials").toString());
        // The test's one addition: where the SDK sends each service's calls.
        env.put("AWS_ENDPOINT_URL_DYNAMODB", moto.endpoint().toString());
        env.put("AWS_ENDPOINT_URL_EVENTBRIDGE", moto.endpoint().toString());
        env.put("AWS_ENDPOINT_URL_CONNECT", connect.endpoint().toString());
        assertThat(env).doesNotContainKeys("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN");
        return env;
    }

    static String instanceArn() {
        return "arn:aws:connect:" + CONNECT_REGION + ":" + DemoInstance.ACCOUNT_ID + ":instance/" + INSTANCE;
    }

    static String functionArn(String logicalId) {
        return "arn:aws:lambda:" + AwsEmulation.REGION.id() + ":" + DemoInstance.ACCOUNT_ID + ":function:ccp-backstop-" + logicalId + ":live";
    }

    static int memory(String logicalId) {
        return template.memoryMb(logicalId);
    }

    static Duration timeout(String logicalId) {
        return template.timeout(logicalId);
    }

    /** events/register.json for {@code agentArn}, with the claims API Gateway's JWT authorizer would hand on. */
    static String register(String agentArn, String username) throws Exception {
        ObjectNode event = (ObjectNode) JSON.readTree(SamBuild.ROOT.resolve("events/register.json").toFile());
        ((ObjectNode) event.path("headers")).put("origin", stack.config().allowedOrigins().getFirst());
        ((ObjectNode) event.path("requestContext").path("authorizer").path("jwt").path("claims"))
                .put(stack.config().agentIdentityClaim(), username);
        event.put("body", "{\"agentArn\":\"" + agentArn + "\",\"status\":{\"name\":\"Available\"}}");
        return JSON.writeValueAsString(event);
    }

    /** events/close-beacon.json for the session {@code sessionId}. */
    static String close(String sessionId, String token) throws Exception {
        ObjectNode event = (ObjectNode) JSON.readTree(SamBuild.ROOT.resolve("events/close-beacon.json").toFile());
        String path = "/sessions/" + sessionId + "/close";
        event.put("rawPath", path);
        ((ObjectNode) event.path("requestContext").path("http")).put("path", path);
        ((ObjectNode) event.path("pathParameters")).put("sessionId", sessionId);
        ((ObjectNode) event.path("headers")).put("origin", stack.config().allowedOrigins().getFirst());
        event.put("body", "{\"token\":\"" + token + "\",\"reason\":\"pagehide\",\"status\":{\"name\":\"Available\"}}");
        return JSON.writeValueAsString(event);
    }

    static JsonNode response(LambdaRuntimeApi.Outcome outcome, LambdaProcess function) throws Exception {
        assertThat(outcome.error()).as("the invocation failed: %s%noutput:%n%s", outcome.body(), function.output()).isFalse();
        return JSON.readTree(outcome.body());
    }
}
