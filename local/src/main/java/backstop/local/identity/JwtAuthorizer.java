package backstop.local.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * API Gateway's JWT authorizer for HTTP APIs, as its documentation describes it, for the local front (each point and
 * its source: docs/security.md, "The local authorizer, point by point"): the token from the identity source
 * ({@code Authorization}: the token alone, or prefixed with exactly "Bearer "); decoded; its algorithm an RSA-based
 * one; its {@code kid} a signing key of the issuer's JWKS (found through the issuer's discovery document, cached two
 * hours; an unknown kid fetches the set again, at most once a minute, so a rotated key is taken up at once and a
 * flood of made-up kids costs the issuer one request a minute); signature verified with that key; then the claims:
 * {@code iss} the configured issuer exactly, {@code aud} one of the configured audiences (only when the token has no
 * {@code aud} at all, {@code client_id}), {@code exp} after now, {@code nbf} and {@code iat} (when present) before
 * now, with no tolerance (none is documented), and at least one of the route's scopes in {@code scope} or
 * {@code scp} when the route requires any. A refusal is API Gateway's 401 with its {@code www-authenticate} error
 * description; a token that passes hands its claims on as {@code requestContext.authorizer.jwt.claims} (every value
 * a string, lists as "[a b]"). Nimbus JOSE + JWT does the cryptography; nothing here is a hand-made signature check.
 */
public final class JwtAuthorizer {
    /** "Currently, only RSA-based algorithms are supported": PKCS#1 v1.5 (RS*) and PSS (PS*) are both RSA. */
    static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512);
    /** "API Gateway can cache the public key for two hours." */
    static final Duration KEY_CACHE = Duration.ofHours(2);
    /** An unknown kid fetches the key set again at most this often: made-up kids must not flood the issuer. */
    static final Duration REFETCH_INTERVAL = Duration.ofMinutes(1);
    static final String BEARER = "Bearer ";

    private final URI issuer;
    private final List<String> audiences;
    private final List<String> routeScopes;
    private final Clock clock;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final ObjectMapper json = new ObjectMapper();
    private JWKSet keys; // guarded by this
    private Instant keysFetched = Instant.EPOCH; // guarded by this
    private Instant lastRefetch = Instant.EPOCH; // guarded by this: successful or not, it spends the minute

    /** A route without authorization scopes, as template.yaml's register route. */
    public JwtAuthorizer(URI issuer, List<String> audiences, Clock clock) {
        this(issuer, audiences, List.of(), clock);
    }

    /** @param routeScopes the route's authorizationScopes: a token needs one of them (empty: scopes are not checked) */
    public JwtAuthorizer(URI issuer, List<String> audiences, List<String> routeScopes, Clock clock) {
        this.issuer = issuer;
        this.audiences = List.copyOf(audiences);
        this.routeScopes = List.copyOf(routeScopes);
        this.clock = clock;
    }

    public URI issuer() {
        return issuer;
    }

    /** What the authorizer decided. */
    public sealed interface Decision {
    }

    /** The token is valid: these claims and scopes go into the event. */
    public record Authorized(Map<String, String> claims, List<String> scopes) implements Decision {
    }

    /** 401: {@code description} is what API Gateway puts in www-authenticate's error_description (empty: no token). */
    public record Refused(String description) implements Decision {
    }

    public Decision authorize(Optional<String> identitySource) {
        String token = identitySource.map(String::trim).orElse("");
        // "The token alone, or the token prefixed with Bearer": that spelling only; "bearer x" is taken as a token.
        if (token.startsWith(BEARER)) {
            token = token.substring(BEARER.length()).trim();
        }
        if (token.isEmpty()) {
            return new Refused("");
        }
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(token);
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException | IllegalArgumentException e) {
            return new Refused("the token is malformed"); // includes unsigned (alg none) tokens: not a JWS
        }
        JWSAlgorithm algorithm = jwt.getHeader().getAlgorithm();
        if (!ALGORITHMS.contains(algorithm)) {
            return new Refused("the token's signing algorithm " + algorithm + " is not supported");
        }
        Optional<RSAKey> key;
        try {
            key = key(jwt.getHeader().getKeyID());
        } catch (IOException e) {
            return new Refused("the issuer's signing keys could not be fetched");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Refused("the issuer's signing keys could not be fetched");
        }
        if (key.isEmpty()) {
            return new Refused("the token's kid is not in the issuer's key set");
        }
        try {
            if (!jwt.verify(new RSASSAVerifier(key.get()))) {
                return new Refused("the token has an invalid signature");
            }
        } catch (JOSEException e) {
            return new Refused("the token has an invalid signature");
        }
        return checkClaims(claims);
    }

    private Decision checkClaims(JWTClaimsSet claims) {
        Date now = Date.from(clock.instant());
        if (!issuer.toString().equals(claims.getIssuer())) {
            return new Refused("the token does not have a valid issuer");
        }
        // "API Gateway validates client_id only if aud is not present": an aud that is present, even empty, decides.
        if (claims.getClaims().containsKey("aud")) {
            if (claims.getAudience().stream().noneMatch(audiences::contains)) {
                return new Refused("the token does not have a valid audience");
            }
        } else {
            Object clientId = claims.getClaim("client_id");
            if (!(clientId instanceof String id) || !audiences.contains(id)) {
                return new Refused("the token does not have a valid audience");
            }
        }
        if (claims.getExpirationTime() == null || !claims.getExpirationTime().after(now)) {
            return new Refused("the token has expired");
        }
        if (claims.getNotBeforeTime() != null && claims.getNotBeforeTime().after(now)) {
            return new Refused("the token is not valid yet");
        }
        if (claims.getIssueTime() != null && claims.getIssueTime().after(now)) {
            return new Refused("the token was issued in the future");
        }
        Map<String, String> flat = new LinkedHashMap<>();
        claims.getClaims().forEach((name, value) -> flat.put(name, asString(value)));
        List<String> scopes = scopes(claims);
        if (!routeScopes.isEmpty() && scopes.stream().noneMatch(routeScopes::contains)) {
            return new Refused("the token does not have the required scope");
        }
        return new Authorized(flat, scopes);
    }

    /** "scope or scp": OAuth's space-separated string, or Entra's scp (a string, or a list in some providers). */
    private static List<String> scopes(JWTClaimsSet claims) {
        List<String> scopes = new ArrayList<>();
        for (String name : List.of("scope", "scp")) {
            Object value = claims.getClaim(name);
            if (value instanceof String text) {
                Arrays.stream(text.split(" ")).filter(part -> !part.isEmpty()).forEach(scopes::add);
            } else if (value instanceof List<?> list) {
                list.forEach(item -> scopes.add(String.valueOf(item)));
            }
        }
        return List.copyOf(scopes);
    }

    /** As API Gateway passes claims to a function: strings; dates as epoch seconds; lists as "[a b]". */
    private static String asString(Object value) {
        if (value instanceof Date date) {
            return Long.toString(date.getTime() / 1000);
        }
        if (value instanceof List<?> list) {
            return list.stream().map(JwtAuthorizer::asString).collect(Collectors.joining(" ", "[", "]"));
        }
        return String.valueOf(value);
    }

    /**
     * Fetches the issuer's keys now, as the stack starts, so no request pays for the identity provider's cold
     * start (its first discovery answer makes an RSA key). A failure is left for the first token to meet, as it
     * would be in API Gateway: the cache simply stays empty.
     */
    public synchronized void warm() {
        try {
            fetchKeys(clock.instant());
        } catch (IOException e) {
            // the first request fetches again
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized Optional<RSAKey> key(String kid) throws IOException, InterruptedException {
        if (kid == null) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        boolean fresh = keys != null && keysFetched.plus(KEY_CACHE).isAfter(now);
        boolean unknown = fresh && keys.getKeyByKeyId(kid) == null;
        // An unknown kid may be a rotated key: fetch again, but not more than once a minute, whoever asks.
        if (!fresh) {
            fetchKeys(now);
        } else if (unknown && !lastRefetch.plus(REFETCH_INTERVAL).isAfter(now)) {
            lastRefetch = now;
            fetchKeys(now);
        }
        JWK key = keys.getKeyByKeyId(kid);
        // A key published for encryption (use "enc") never verifies a signature; no use at all means any.
        boolean signs = key != null && (key.getKeyUse() == null || KeyUse.SIGNATURE.equals(key.getKeyUse()));
        return signs && key instanceof RSAKey rsa ? Optional.of(rsa) : Optional.empty();
    }

    private void fetchKeys(Instant now) throws IOException, InterruptedException {
        // OpenID Connect Discovery: a terminating "/" of the issuer is removed before the well-known path is appended.
        String base = issuer.toString().endsWith("/") ? issuer.toString().substring(0, issuer.toString().length() - 1) : issuer.toString();
        JsonNode discovery = json.readTree(get(URI.create(base + "/.well-known/openid-configuration")));
        String jwksUri = discovery.path("jwks_uri").asText("");
        if (jwksUri.isEmpty()) {
            throw new IOException("the discovery document names no jwks_uri");
        }
        try {
            keys = JWKSet.parse(get(URI.create(jwksUri)));
            keysFetched = now;
        } catch (ParseException e) {
            throw new IOException("the issuer's JWKS is not a key set", e);
        }
    }

    private String get(URI uri) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException(uri + " answered " + response.statusCode());
        }
        return response.body();
    }

    /** The www-authenticate header of a refusal, in API Gateway's wording. */
    public static Optional<String> wwwAuthenticate(Refused refused) {
        if (refused.description().isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("Bearer scope=\"\" error=\"invalid_token\" error_description=\""
                + refused.description().replace("\"", "'") + "\"");
    }
}
