package backstop.local.it;

import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.Waits;
import backstop.local.connect.ConnectCall;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.OperationFault;
import backstop.local.connect.Quota;
import backstop.local.identity.LocalIdentityProvider;
import backstop.local.identity.Tokens;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import backstop.core.config.BackstopConfig;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Who may open a session for an agent, tried as an outsider would: real HTTP into the local front (API
 * Gateway's JWT authorizer emulated with Nimbus against the local IdP's JWKS), tokens from the real local IdP or
 * forged. Every refusal: its status and error code, no item written, no Connect call beyond what the case needs.
 */
class AgentIdentityTest {
    static LocalStack stack;
    static ConnectEmulator connect;
    static ApiClient api;
    static LocalIdentityProvider idp;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests());
        connect = stack.connect();
        api = new ApiClient(stack);
        idp = stack.identity();
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    @BeforeEach
    void noQuota() {
        connect.setQuota(Quota.OFF);
    }

    @AfterEach
    void clearFaults() {
        connect.clearFaults();
    }

    static String arn(String userId) {
        return DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + userId;
    }

    /**
     * What the table holds of sessions, agents and transitions: the stack's Connect budget is left out (a register that
     * asks Connect takes a turn from it, which is not a write of anything the caller named).
     */
    static Set<Map<String, AttributeValue>> table() {
        return new HashSet<>(stack.clients().dynamoDb().scanPaginator(r -> r.tableName(stack.config().sessionsTable())
                .consistentRead(true)).items().stream().filter(item -> !item.get("pk").s().startsWith("CONNECT_BUDGET#")).toList());
    }

    ApiClient.Response register(String userId, String authorization) {
        Map<String, String> headers = authorization == null ? Map.of() : Map.of("Authorization", authorization);
        // An explicit Authorization (even an empty one) is sent as given: ApiClient adds none of its own.
        return api.post("/sessions", "text/plain;charset=UTF-8", "{\"agentArn\":\"" + arn(userId) + "\"}",
                authorization == null ? Map.of("Authorization", "") : headers);
    }

    /** A token the local IdP would issue ada, edited; signed with the IdP's own key unless said otherwise. */
    static String ada(UnaryOperator<JWTClaimsSet.Builder> edit) {
        return Tokens.signed(idp.signingKey(), JWSAlgorithm.RS256, edit.apply(Tokens.claims(idp, "ada")).build());
    }

    record Hostile(String name, String authorization, int status, String code) {
    }

    @Test
    void register_should_refuseEveryHostileToken_withItsStatusAndCode_writingNothing() throws Exception {
        Instant now = Instant.now();
        RSAKey untrusted = new RSAKeyGenerator(2048).keyID(idp.signingKey().getKeyID()).generate(); // same kid, other key
        JWTClaimsSet valid = Tokens.claims(idp, "ada").build();
        SignedJWT hmac = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(idp.signingKey().getKeyID()).build(), valid);
        // The classic confusion: HS256 keyed with the issuer's public key (which anyone can fetch from its JWKS).
        hmac.sign(new MACSigner(sha256(idp.signingKey().toPublicJWK().toJSONString())));
        String adaToken = idp.idTokenFor("demo-ada");
        List<Hostile> cases = List.of(
                new Hostile("no token", null, 401, ""),
                new Hostile("empty bearer", "Bearer ", 401, ""),
                new Hostile("malformed", "Bearer not.a.jwt", 401, "the token is malformed"),
                new Hostile("wrong scheme", "Basic " + java.util.Base64.getEncoder().encodeToString("ada:secret".getBytes()), 401, "the token is malformed"),
                new Hostile("truncated", "Bearer " + adaToken.substring(0, adaToken.length() - 10), 401, "the token has an invalid signature"),
                new Hostile("expired", "Bearer " + ada(c -> c.expirationTime(Date.from(now.minusSeconds(5)))), 401, "the token has expired"),
                new Hostile("not yet valid", "Bearer " + ada(c -> c.notBeforeTime(Date.from(now.plusSeconds(600)))), 401, "the token is not valid yet"),
                new Hostile("wrong issuer", "Bearer " + ada(c -> c.issuer("https://idp.evil.example/ccp-backstop")), 401, "the token does not have a valid issuer"),
                new Hostile("wrong audience", "Bearer " + ada(c -> c.audience("another-app")), 401, "the token does not have a valid audience"),
                new Hostile("untrusted key", "Bearer " + Tokens.signed(untrusted, JWSAlgorithm.RS256, valid), 401, "the token has an invalid signature"),
                new Hostile("unknown kid", "Bearer " + Tokens.signed(new RSAKeyGenerator(2048).keyID("attacker").generate(), JWSAlgorithm.RS256, valid),
                        401, "the token's kid is not in the issuer's key set"),
                new Hostile("alg none", "Bearer " + new PlainJWT(valid).serialize(), 401, "the token is malformed"),
                new Hostile("HS256 with the issuer's public key", "Bearer " + hmac.serialize(), 401, "the token's signing algorithm HS256 is not supported"),
                new Hostile("ada's valid token for alan", "Bearer " + adaToken, 403, "identity_mismatch"),
                new Hostile("ada's token, agent case-changed", "Bearer " + ada(c -> c.claim("preferred_username", "Ada")), 403, "identity_mismatch"),
                new Hostile("no identity claim", "Bearer " + ada(c -> c.claim("preferred_username", null)), 403, "identity_claim_missing"));
        Set<Map<String, AttributeValue>> before = table();
        Map<String, String> outcomes = new java.util.LinkedHashMap<>();
        for (Hostile hostile : cases) {
            connect.clearCalls();
            String target = hostile.name().contains("for alan") ? "demo-alan" : "demo-ada";

            ApiClient.Response response = register(target, hostile.authorization());

            outcomes.put(hostile.name(), response.status() + " " + (response.status() == 401
                    ? response.wwwAuthenticate() : response.text("error")));
            assertThat(response.status()).as(hostile.name()).isEqualTo(hostile.status());
            if (hostile.status() == 401) {
                assertThat(response.text("message")).as(hostile.name()).isEqualTo("Unauthorized");
                assertThat(response.wwwAuthenticate()).as(hostile.name()).contains(hostile.code());
                assertThat(connect.calls()).as("%s: refused before the function, so no Connect call", hostile.name()).isEmpty();
            } else {
                assertThat(response.text("error")).as(hostile.name()).isEqualTo(hostile.code());
                assertThat(connect.calls(ConnectEmulator.DESCRIBE_USER)).as("%s: at most the DescribeUser that names the agent",
                        hostile.name()).hasSizeLessThanOrEqualTo(1);
                assertThat(connect.calls(ConnectEmulator.PUT_USER_STATUS)).as(hostile.name()).isEmpty();
            }
            assertThat(table()).as("%s: nothing written", hostile.name()).isEqualTo(before);
        }
        outcomes.forEach((name, outcome) -> System.out.printf("identity: %-36s -> %s%n", name, outcome));
    }

    @Test
    void register_should_refuseAUserConnectDoesNotKnow_andAskConnectOnlyOnce() {
        String ghost = "ghost-" + UUID.randomUUID();
        String token = "Bearer " + Tokens.signed(idp.signingKey(), JWSAlgorithm.RS256, Tokens.claims(idp, ghost).build());
        Set<Map<String, AttributeValue>> before = table();
        connect.clearCalls();

        for (int i = 0; i < 3; i++) {
            ApiClient.Response response = register(ghost, token);
            assertThat(response.status()).isEqualTo(403);
            assertThat(response.text("error")).isEqualTo("unknown_agent");
        }

        assertThat(connect.calls(ConnectEmulator.DESCRIBE_USER)).as("then the negative cache answers").hasSize(1);
        assertThat(table()).isEqualTo(before);
    }

    @Test
    void register_should_openAWorkingSession_when_theAgentsOwnTokenNamesThem() {
        String token = "Bearer " + idp.idTokenFor("demo-grace");

        ApiClient.Response registered = register("demo-grace", token);

        assertThat(registered.status()).isEqualTo(201);
        ApiClient.Session session = new ApiClient.Session(registered.text("sessionId"), registered.text("token"));
        assertThat(api.heartbeat(session).status()).as("heartbeat needs no JWT: the session token").isEqualTo(200);
        assertThat(api.close(session).status()).isEqualTo(202);
        await().atMost(Waits.PROMPT).until(() -> connect.agentView(stack.instanceId(), "demo-grace").statusName(), "Offline"::equals);
    }

    @Test
    void register_should_capOpenSessionsPerAgent_andAnswer429_untilOneCloses() {
        String agent = "cap-" + UUID.randomUUID();
        connect.addAgent(stack.instanceId(), agent, agent, "Capped", "Agent", "rp-sales", "Available");
        int cap = stack.config().maxSessionsPerAgent();
        List<ApiClient.Session> open = new java.util.ArrayList<>();
        for (int i = 0; i < cap; i++) {
            open.add(api.open(arn(agent)));
        }
        Set<Map<String, AttributeValue>> before = table();

        ApiClient.Response refused = api.register(arn(agent));

        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.text("error")).isEqualTo("too_many_sessions");
        assertThat(table()).as("nothing written").isEqualTo(before);
        assertThat(openSessions(agent)).hasSize(cap);

        assertThat(api.close(open.getFirst()).status()).isEqualTo(202);
        assertThat(api.register(arn(agent)).status()).as("a closed one frees its place").isEqualTo(201);
        assertThat(openSessions(agent)).hasSize(cap);
    }

    static List<String> openSessions(String userId) {
        Map<String, AttributeValue> item = stack.clients().dynamoDb().getItem(r -> r.tableName(stack.config().sessionsTable())
                .key(Map.of("pk", AttributeValue.fromS("AGENT#" + stack.instanceId() + "#" + userId), "sk", AttributeValue.fromS("AGENT")))
                .consistentRead(true)).item();
        return item.containsKey("openSessions") ? item.get("openSessions").ss() : List.of();
    }

    @Test
    void supervisor_should_neverBeSetOffline_when_connectCouldNotConfirmTheExemptionAtRegister() {
        String supervisor = "sup-" + UUID.randomUUID();
        connect.addAgent(stack.instanceId(), supervisor, supervisor, "Super", "Visor", DemoInstance.SUPERVISOR_PROFILE, "Available");
        ApiClient.Session first = api.open(arn(supervisor));
        assertThat(api.close(first).body().path("offline").asText()).isEqualTo("exempt");
        // Half a day later the stored profile is too old to decide the exemption (the username still names the agent:
        // no DescribeUser), and Connect's GetCurrentUserData fails when the close asks it for the profile.
        stack.clients().dynamoDb().updateItem(r -> r.tableName(stack.config().sessionsTable())
                .key(Map.of("pk", AttributeValue.fromS("AGENT#" + stack.instanceId() + "#" + supervisor), "sk", AttributeValue.fromS("AGENT")))
                .updateExpression("SET profileCheckedAt = :old")
                .expressionAttributeValues(Map.of(":old", AttributeValue.fromN(Long.toString(Instant.now().minus(Duration.ofHours(13)).toEpochMilli())))));
        int describes = connect.calls(ConnectEmulator.DESCRIBE_USER).size();
        connect.setFault(ConnectEmulator.GET_CURRENT_USER_DATA, new OperationFault(1.0, 429, "ThrottlingException", 0));

        ApiClient.Session second = api.open(arn(supervisor));
        ApiClient.Response closed = api.close(second);

        assertThat(connect.calls(ConnectEmulator.DESCRIBE_USER)).as("a known agent's register asks Connect nothing").hasSize(describes);
        assertThat(closed.status()).isEqualTo(202);
        assertThat(closed.body().path("offline").asText()).as("not known to be exempt, so not set Offline either").isEqualTo("pending");
        assertThat(puts(supervisor)).isEmpty();

        // Connect answers again: the reconciler reads the profile (GetCurrentUserData) before PutUserStatus, and the
        // transition ends EXEMPT.
        connect.clearFaults();
        MutableClock clock = new MutableClock(Instant.now().plus(Duration.ofMinutes(10)));
        Map<String, String> env = new HashMap<>(stack.environment());
        ReconcilerWiring.reconciler(BackstopConfig.fromEnvironment(env), stack.reconcilerClients(), clock, wake -> { },
                ReconcilerMetrics.NONE).sweepOnce();

        assertThat(transitionState(second.id())).isEqualTo("EXEMPT");
        assertThat(puts(supervisor)).isEmpty();
        assertThat(connect.agentView(stack.instanceId(), supervisor).statusName()).isEqualTo("Available");
    }

    static List<ConnectCall> puts(String userId) {
        return connect.calls(ConnectEmulator.PUT_USER_STATUS).stream().filter(c -> userId.equals(c.userId())).toList();
    }

    static String transitionState(String sessionId) {
        return stack.clients().dynamoDb().getItem(r -> r.tableName(stack.config().sessionsTable())
                .key(Map.of("pk", AttributeValue.fromS("TRANSITION#" + sessionId), "sk", AttributeValue.fromS("TRANSITION")))
                .consistentRead(true)).item().get("transitionState").s();
    }

    static byte[] sha256(String text) throws Exception {
        // MACSigner needs at least 256 bits: the public key's JSON, hashed, as an attacker would derive a secret from it.
        return java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    }
}
