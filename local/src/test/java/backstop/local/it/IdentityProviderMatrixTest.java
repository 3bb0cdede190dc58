package backstop.local.it;

import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.connect.ConnectEmulator;
import backstop.local.identity.LocalIdentityProvider;
import backstop.local.identity.Tokens;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTClaimsSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hostile identity matrix: each common identity provider's documented ID-token shape, and an agent forging the
 * claim that names a colleague, through real HTTP into a local stack whose AGENT_IDENTITY_CLAIM is the one README's
 * identity table names for that provider (one stack per claim, on the shared AWS emulation). Tokens are signed with
 * the local identity provider's own key, so only the claims differ from what it would issue.
 */
class IdentityProviderMatrixTest {
    static final Map<String, LocalStack> STACKS = new ConcurrentHashMap<>();

    static LocalStack stack(String identityClaim) {
        return STACKS.computeIfAbsent(identityClaim, claim -> {
            try {
                return LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of("AGENT_IDENTITY_CLAIM", claim)));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    @AfterAll
    static void stop() {
        STACKS.values().forEach(LocalStack::close);
    }

    record Agent(String userId, String username) {
    }

    /** An agent of the stack's Connect instance whose username is e-mail shaped, as SAML-federated instances name them. */
    static Agent agent(LocalStack stack) {
        String userId = "mx-" + UUID.randomUUID();
        Agent agent = new Agent(userId, userId + "@example.com");
        stack.connect().addAgent(stack.instanceId(), agent.userId(), agent.username(), "Matrix", "Agent", "rp-sales", "Available");
        return agent;
    }

    static String arn(LocalStack stack, Agent agent) {
        return DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + agent.userId();
    }

    /** Claims every ID token of the stack's identity provider carries; the provider's own shape is added to them. */
    static JWTClaimsSet.Builder base(LocalStack stack, Instant issued) {
        return new JWTClaimsSet.Builder().issuer(stack.identity().issuer().toString()).audience(LocalIdentityProvider.CLIENT_ID)
                .issueTime(Date.from(issued)).notBeforeTime(Date.from(issued)).expirationTime(Date.from(issued.plusSeconds(3600)))
                .jwtID(UUID.randomUUID().toString());
    }

    static String bearer(LocalStack stack, JWTClaimsSet claims) {
        return "Bearer " + Tokens.signed(stack.identity().signingKey(), JWSAlgorithm.RS256, claims);
    }

    static ApiClient.Response register(LocalStack stack, Agent agent, String authorization) {
        return new ApiClient(stack).post("/sessions", "text/plain;charset=UTF-8", "{\"agentArn\":\"" + arn(stack, agent) + "\"}",
                Map.of("Authorization", authorization));
    }

    static Set<Map<String, AttributeValue>> table(LocalStack stack) {
        return new HashSet<>(stack.clients().dynamoDb().scanPaginator(r -> r.tableName(stack.config().sessionsTable())
                .consistentRead(true)).items().stream().toList());
    }

    /** A provider's documented ID-token shape, naming {@code agent} as README's identity table says to. */
    record Shape(String provider, String identityClaim, Function<Agent, Map<String, Object>> claims) {
    }

    static final List<Shape> SHAPES = List.of(
            // Cognito ID token: the immutable username (the pool's sign-in name), email_verified a JSON boolean.
            new Shape("Cognito", "cognito:username", a -> Map.of("sub", UUID.randomUUID().toString(), "cognito:username", a.username(),
                    "token_use", "id", "email", "someone.else@example.com", "email_verified", true, "auth_time", 1_700_000_000L)),
            // Entra ID v1 token: upn (admin-set), unique_name, oid/tid, amr a list.
            new Shape("Entra ID v1", "upn", a -> Map.of("ver", "1.0", "upn", a.username(), "unique_name", a.username(),
                    "oid", UUID.randomUUID().toString(), "tid", UUID.randomUUID().toString(), "amr", List.of("pwd", "mfa"))),
            // Entra ID v2 token with upn as an optional claim; preferred_username also present (mutable: not used).
            new Shape("Entra ID v2", "upn", a -> Map.of("ver", "2.0", "upn", a.username(), "preferred_username", "not-this@example.com",
                    "oid", UUID.randomUUID().toString(), "tid", UUID.randomUUID().toString())),
            // Okta: preferred_username is the app user's username, which the admin's profile mapping decides.
            new Shape("Okta", "preferred_username", a -> Map.of("ver", 1, "sub", "00u" + a.userId().substring(3, 15),
                    "preferred_username", a.username(), "idp", "00o-okta", "amr", List.of("pwd"))),
            // Keycloak: preferred_username is the username, which users cannot edit unless the realm allows it.
            new Shape("Keycloak", "preferred_username", a -> Map.of("typ", "ID", "azp", LocalIdentityProvider.CLIENT_ID,
                    "preferred_username", a.username(), "email_verified", false, "sid", UUID.randomUUID().toString())),
            // Google: email with email_verified true (and hd, the Workspace domain).
            new Shape("Google", "email", a -> Map.of("sub", "1" + Math.abs(a.userId().hashCode()), "email", a.username(),
                    "email_verified", true, "hd", "example.com", "azp", LocalIdentityProvider.CLIENT_ID)),
            // Auth0: email with email_verified true; sub is connection|id.
            new Shape("Auth0", "email", a -> Map.of("sub", "auth0|" + a.userId(), "email", a.username(), "email_verified", true,
                    "nickname", a.userId(), "updated_at", "2026-12-01T08:00:00.000Z")));

    @Test
    void register_should_openASession_forEachProvidersDocumentedShape_when_itsIdentityClaimNamesTheAgent() {
        Map<String, Integer> outcomes = new LinkedHashMap<>();
        for (Shape shape : SHAPES) {
            LocalStack stack = stack(shape.identityClaim());
            Agent agent = agent(stack);
            JWTClaimsSet.Builder claims = base(stack, Instant.now());
            shape.claims().apply(agent).forEach(claims::claim);

            ApiClient.Response response = register(stack, agent, bearer(stack, claims.build()));

            outcomes.put(shape.provider() + " (" + shape.identityClaim() + ")", response.status());
            assertThat(response.status()).as("%s: %s", shape.provider(), response).isEqualTo(201);
            assertThat(new ApiClient(stack).close(new ApiClient.Session(response.text("sessionId"), response.text("token"))).status())
                    .isEqualTo(202);
        }
        outcomes.forEach((provider, status) -> System.out.printf("identity matrix: %-36s -> %d%n", provider, status));
    }

    @Test
    void register_should_refuseAnUnverifiedEmailNamingAColleague_withoutConnectOrWrites() {
        LocalStack stack = stack("email");
        Agent a = agent(stack);
        Agent b = agent(stack);
        Set<Map<String, AttributeValue>> before = table(stack);
        stack.connect().clearCalls();
        // A set their own e-mail to B's Connect username (a self-service profile, an Entra guest): unverified.
        for (Map<String, Object> forged : List.<Map<String, Object>>of(Map.of("email", b.username(), "email_verified", false),
                Map.of("email", b.username()), Map.of("email", b.username(), "email_verified", "false"))) {
            JWTClaimsSet.Builder claims = base(stack, Instant.now()).subject("idp-" + a.userId()).claim("preferred_username", a.username());
            forged.forEach(claims::claim);

            ApiClient.Response response = register(stack, b, bearer(stack, claims.build()));

            assertThat(response.status()).as(forged.toString()).isEqualTo(403);
            assertThat(response.text("error")).as(forged.toString()).isEqualTo("identity_claim_unverified");
        }
        assertThat(stack.connect().calls(ConnectEmulator.DESCRIBE_USER)).as("refused before Connect is asked").isEmpty();
        assertThat(table(stack)).as("nothing written").isEqualTo(before);
        assertThat(stack.connect().agentView(stack.instanceId(), b.userId()).statusName()).isEqualTo("Available");
    }

    @Test
    void register_should_answer401_when_theTokenIsThirtySecondsAhead_byIatOrNbf_asApiGatewayDocuments() {
        LocalStack stack = stack("preferred_username");
        Agent agent = agent(stack);
        Instant ahead = Instant.now().plusSeconds(30);
        Set<Map<String, AttributeValue>> before = table(stack);

        ApiClient.Response byNbf = register(stack, agent, bearer(stack, base(stack, Instant.now())
                .notBeforeTime(Date.from(ahead)).claim("preferred_username", agent.username()).build()));
        ApiClient.Response byIat = register(stack, agent, bearer(stack, base(stack, Instant.now())
                .issueTime(Date.from(ahead)).notBeforeTime(null).claim("preferred_username", agent.username()).build()));

        assertThat(byNbf.status()).isEqualTo(401);
        assertThat(byNbf.wwwAuthenticate()).contains("the token is not valid yet");
        assertThat(byIat.status()).isEqualTo(401);
        assertThat(byIat.wwwAuthenticate()).contains("the token was issued in the future");
        assertThat(table(stack)).as("nothing written").isEqualTo(before);
    }
}
