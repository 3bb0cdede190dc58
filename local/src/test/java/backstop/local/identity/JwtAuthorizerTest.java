package backstop.local.identity;

import backstop.local.it.MutableClock;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The local authorizer against API Gateway's documented JWT authorizer, point by point (docs/security.md, "The local
 * authorizer, point by point"). An issuer of the test's own serves discovery and a key set it can rotate, and counts
 * every key-set request; the trailing-slash issuer is the real local identity provider.
 */
class JwtAuthorizerTest {
    static final String AUDIENCE = "ccp-page";
    static HttpServer server;
    static URI issuer;
    static final AtomicReference<JWKSet> published = new AtomicReference<>();
    static final AtomicInteger keySetRequests = new AtomicInteger();
    static RSAKey signing;

    MutableClock clock;
    JwtAuthorizer authorizer;

    @BeforeAll
    static void startIssuer() throws Exception {
        signing = new RSAKeyGenerator(2048).keyID("key-1").keyUse(KeyUse.SIGNATURE).generate();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        issuer = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/tenant");
        server.createContext("/tenant/.well-known/openid-configuration", exchange -> answer(exchange,
                "{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + issuer + "/keys\"}"));
        server.createContext("/tenant/keys", exchange -> {
            keySetRequests.incrementAndGet();
            answer(exchange, published.get().toString(true));
        });
        server.start();
    }

    static void answer(com.sun.net.httpserver.HttpExchange exchange, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    @AfterAll
    static void stopIssuer() {
        server.stop(0);
    }

    @BeforeEach
    void freshAuthorizer() {
        published.set(new JWKSet(List.of(signing.toPublicJWK())));
        keySetRequests.set(0);
        clock = new MutableClock(Instant.now());
        authorizer = new JwtAuthorizer(issuer, List.of(AUDIENCE), clock);
    }

    JWTClaimsSet.Builder claims() {
        Instant now = clock.instant();
        return new JWTClaimsSet.Builder().issuer(issuer.toString()).audience(AUDIENCE).subject("idp-ada")
                .claim("preferred_username", "ada").issueTime(Date.from(now)).notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(3600)));
    }

    static String token(JWK key, JWSAlgorithm algorithm, String kid, JWTClaimsSet claims) {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(algorithm).keyID(kid).build(), claims);
        try {
            jwt.sign(key instanceof ECKey ec ? new ECDSASigner(ec) : new RSASSASigner((RSAKey) key));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }

    String valid(UnaryOperator<JWTClaimsSet.Builder> edit) {
        return token(signing, JWSAlgorithm.RS256, signing.getKeyID(), edit.apply(claims()).build());
    }

    /** The token's payload as given (JSON), signed anew with the issuer's key. */
    String signedPayload(String json) {
        try {
            JWSObject jws = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(signing.getKeyID()).build(), new Payload(json));
            jws.sign(new RSASSASigner(signing));
            return jws.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    JwtAuthorizer.Decision authorize(String header) {
        return authorizer.authorize(Optional.of(header));
    }

    static String refusal(JwtAuthorizer.Decision decision) {
        return decision instanceof JwtAuthorizer.Refused refused ? refused.description() : "authorized";
    }

    @Test
    void authorize_should_acceptARotatedKey_afterOneRefetchOfTheKeySet() throws Exception {
        assertThat(refusal(authorize("Bearer " + valid(c -> c)))).isEqualTo("authorized");
        assertThat(keySetRequests).hasValue(1);
        RSAKey rotated = new RSAKeyGenerator(2048).keyID("key-2").keyUse(KeyUse.SIGNATURE).generate();
        published.set(new JWKSet(List.of(signing.toPublicJWK(), rotated.toPublicJWK())));
        String signedWithTheNewKey = token(rotated, JWSAlgorithm.RS256, "key-2", claims().build());

        JwtAuthorizer.Decision first = authorize("Bearer " + signedWithTheNewKey);
        JwtAuthorizer.Decision again = authorize("Bearer " + signedWithTheNewKey);

        assertThat(refusal(first)).as("the key set fetched a moment ago: the new kid still refetches it").isEqualTo("authorized");
        assertThat(refusal(again)).isEqualTo("authorized");
        assertThat(keySetRequests).as("one refetch for the new kid, then the cache").hasValue(2);
    }

    @Test
    void authorize_should_refetchTheKeySetAtMostOnceAMinute_when_100RandomKidsArrive() throws Exception {
        RSAKey attacker = new RSAKeyGenerator(2048).generate();
        authorize("Bearer " + valid(c -> c));

        for (int i = 0; i < 100; i++) {
            String forged = token(attacker, JWSAlgorithm.RS256, UUID.randomUUID().toString(), claims().build());
            assertThat(refusal(authorize("Bearer " + forged))).isEqualTo("the token's kid is not in the issuer's key set");
            clock.advance(Duration.ofMillis(500)); // 100 kids in 50 s: one minute
        }
        assertThat(keySetRequests).as("the first fetch, then one refetch in the minute of the flood").hasValue(2);

        clock.advance(Duration.ofSeconds(11)); // the refetch's minute is over
        for (int i = 0; i < 100; i++) {
            authorize("Bearer " + token(attacker, JWSAlgorithm.RS256, UUID.randomUUID().toString(), claims().build()));
        }
        assertThat(keySetRequests).as("one more a minute later").hasValue(3);
        assertThat(refusal(authorize("Bearer " + valid(c -> c)))).as("known keys still verify meanwhile").isEqualTo("authorized");
        assertThat(keySetRequests).hasValue(3);
    }

    @Test
    void authorize_should_refetchTheKeySet_when_itsTwoHoursAreOver() {
        authorize("Bearer " + valid(c -> c));
        clock.advance(JwtAuthorizer.KEY_CACHE.minusSeconds(1));
        authorize("Bearer " + valid(c -> c));
        assertThat(keySetRequests).hasValue(1);

        clock.advance(Duration.ofSeconds(1));
        assertThat(refusal(authorize("Bearer " + valid(c -> c)))).isEqualTo("authorized");

        assertThat(keySetRequests).hasValue(2);
    }

    @Test
    void authorize_should_acceptEveryRsaAlgorithm_andNoOther() throws Exception {
        for (JWSAlgorithm rsa : List.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512, JWSAlgorithm.PS256,
                JWSAlgorithm.PS384, JWSAlgorithm.PS512)) {
            assertThat(refusal(authorize("Bearer " + token(signing, rsa, signing.getKeyID(), claims().build())))).as(rsa.getName())
                    .isEqualTo("authorized");
        }
        ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").keyUse(KeyUse.SIGNATURE).generate();
        published.set(new JWKSet(List.of(signing.toPublicJWK(), ec.toPublicJWK())));

        assertThat(refusal(authorize("Bearer " + token(ec, JWSAlgorithm.ES256, "ec-1", claims().build()))))
                .isEqualTo("the token's signing algorithm ES256 is not supported");
    }

    @Test
    void authorize_should_neverVerifyWithAKeyPublishedForEncryption() throws Exception {
        RSAKey encryption = new RSAKeyGenerator(2048).keyID("enc-1").keyUse(KeyUse.ENCRYPTION).generate();
        RSAKey anyUse = new RSAKeyGenerator(2048).keyID("any-1").generate(); // no "use": any, signatures included
        published.set(new JWKSet(List.of(signing.toPublicJWK(), encryption.toPublicJWK(), anyUse.toPublicJWK())));

        assertThat(refusal(authorize("Bearer " + token(encryption, JWSAlgorithm.RS256, "enc-1", claims().build()))))
                .isEqualTo("the token's kid is not in the issuer's key set");
        assertThat(refusal(authorize("Bearer " + token(anyUse, JWSAlgorithm.RS256, "any-1", claims().build()))))
                .isEqualTo("authorized");
    }

    @Test
    void authorize_should_checkClientIdOnlyWhenAudIsAbsent() {
        String invalid = "the token does not have a valid audience";

        assertThat(refusal(authorize("Bearer " + valid(c -> c.audience((String) null).claim("client_id", AUDIENCE)))))
                .as("no aud: client_id decides").isEqualTo("authorized");
        assertThat(refusal(authorize("Bearer " + signedPayload(claims().audience((String) null).claim("client_id", AUDIENCE).build().toString()
                .replace("\"client_id\"", "\"aud\":[],\"client_id\""))))) // Nimbus itself never writes an empty aud
                .as("aud present but empty: aud decides, and names no audience").isEqualTo(invalid);
        assertThat(refusal(authorize("Bearer " + valid(c -> c.audience("another-app").claim("client_id", AUDIENCE)))))
                .as("both: aud decides").isEqualTo(invalid);
        assertThat(refusal(authorize("Bearer " + valid(c -> c.audience(List.of("another-app", AUDIENCE))))))
                .as("one of several").isEqualTo("authorized");
        assertThat(refusal(authorize("Bearer " + valid(c -> c.audience((String) null))))).isEqualTo(invalid);
    }

    @Test
    void authorize_should_takeTheTokenAloneOrAfterBearer_spelledExactlySo() {
        String token = valid(c -> c);

        assertThat(refusal(authorize("Bearer " + token))).isEqualTo("authorized");
        assertThat(refusal(authorize(token))).as("the token alone").isEqualTo("authorized");
        for (String other : List.of("bearer ", "BEARER ", "Bearer:", "Token ")) {
            assertThat(refusal(authorize(other + token))).as(other).isEqualTo("the token is malformed");
        }
    }

    @Test
    void authorize_should_refuseATokenFromTheFuture_asDocumented_withNoTolerance() {
        Instant now = clock.instant();

        assertThat(refusal(authorize("Bearer " + valid(c -> c.notBeforeTime(Date.from(now.plusSeconds(30)))))))
                .isEqualTo("the token is not valid yet");
        assertThat(refusal(authorize("Bearer " + valid(c -> c.issueTime(Date.from(now.plusSeconds(30))).notBeforeTime(null)))))
                .isEqualTo("the token was issued in the future");
        assertThat(refusal(authorize("Bearer " + valid(c -> c.expirationTime(Date.from(now))))))
                .isEqualTo("the token has expired");
        clock.advance(Duration.ofSeconds(30));
        assertThat(refusal(authorize("Bearer " + token(signing, JWSAlgorithm.RS256, signing.getKeyID(),
                new JWTClaimsSet.Builder(claims().build()).issueTime(Date.from(now.plusSeconds(30)))
                        .notBeforeTime(Date.from(now.plusSeconds(30))).build()))))
                .as("the same token once its time has come").isEqualTo("authorized");
    }

    @Test
    void authorize_should_requireOneOfTheRoutesScopes_inScopeOrScp_onlyWhenTheRouteNamesAny() {
        JwtAuthorizer scoped = new JwtAuthorizer(issuer, List.of(AUDIENCE), List.of("backstop/register"), clock);

        assertThat(refusal(scoped.authorize(Optional.of(valid(c -> c.claim("scope", "openid backstop/register"))))))
                .isEqualTo("authorized");
        assertThat(refusal(scoped.authorize(Optional.of(valid(c -> c.claim("scp", List.of("backstop/register")))))))
                .isEqualTo("authorized");
        assertThat(refusal(scoped.authorize(Optional.of(valid(c -> c.claim("scp", "backstop/read"))))))
                .isEqualTo("the token does not have the required scope");
        assertThat(refusal(scoped.authorize(Optional.of(valid(c -> c))))).isEqualTo("the token does not have the required scope");
        assertThat(refusal(authorize(valid(c -> c)))).as("a route without scopes checks none").isEqualTo("authorized");
        assertThat(((JwtAuthorizer.Authorized) authorize(valid(c -> c.claim("scope", "openid email")))).scopes())
                .containsExactly("openid", "email");
    }

    @Test
    void authorize_should_acceptAnIssuerEndingInASlash_exactlyAsConfigured() throws Exception {
        try (LocalIdentityProvider idp = LocalIdentityProvider.start(0)) {
            String withSlash = idp.issuer() + "/"; // as Entra v1 (https://sts.windows.net/<tenant>/) and Auth0 write theirs
            JwtAuthorizer slashed = new JwtAuthorizer(URI.create(withSlash), List.of(LocalIdentityProvider.CLIENT_ID), Clock.systemUTC());
            JWTClaimsSet.Builder claims = Tokens.claims(idp, "ada");

            JwtAuthorizer.Decision same = slashed.authorize(Optional.of("Bearer "
                    + Tokens.signed(idp.signingKey(), JWSAlgorithm.RS256, claims.issuer(withSlash).build())));
            JwtAuthorizer.Decision without = slashed.authorize(Optional.of("Bearer "
                    + Tokens.signed(idp.signingKey(), JWSAlgorithm.RS256, claims.issuer(idp.issuer().toString()).build())));

            assertThat(refusal(same)).as("keys found through <issuer without its slash>/.well-known/openid-configuration")
                    .isEqualTo("authorized");
            assertThat(refusal(without)).as("iss must match exactly").isEqualTo("the token does not have a valid issuer");
        }
    }
}
