package backstop.local.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
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
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * API Gateway's JWT authorizer for HTTP APIs, as its documentation describes it, for the local front: the token
 * from the identity source ({@code Authorization}, with or without "Bearer "); decoded; its algorithm one of the
 * RSA ones API Gateway supports; its {@code kid} a key of the issuer's JWKS (found through the issuer's
 * discovery document, cached two hours as API Gateway does); signature verified with that key; then the claims:
 * {@code iss} the configured issuer, {@code aud} one of the configured audiences (or, only when there is no
 * {@code aud}, {@code client_id}), {@code exp} after now, {@code nbf} and {@code iat} (when present) before now.
 * A refusal is API Gateway's 401 with its {@code www-authenticate} error description; a token that passes hands
 * its claims on as {@code requestContext.authorizer.jwt.claims} (every value a string, lists as "[a b]").
 * Nimbus JOSE + JWT does the cryptography; nothing here is a hand-made signature check.
 */
public final class JwtAuthorizer {
    /** The algorithms API Gateway's JWT authorizer accepts: "only RSA-based algorithms are supported". */
    static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512);
    static final Duration KEY_CACHE = Duration.ofHours(2);

    private final URI issuer;
    private final List<String> audiences;
    private final Clock clock;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final ObjectMapper json = new ObjectMapper();
    private volatile JWKSet keys;
    private volatile Instant keysFetched = Instant.EPOCH;

    public JwtAuthorizer(URI issuer, List<String> audiences, Clock clock) {
        this.issuer = issuer;
        this.audiences = List.copyOf(audiences);
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
        if (token.regionMatches(true, 0, "Bearer ", 0, 7)) {
            token = token.substring(7).trim();
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
        List<String> aud = claims.getAudience();
        if (aud != null && !aud.isEmpty()) {
            if (aud.stream().noneMatch(audiences::contains)) {
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
        Object scope = claims.getClaim("scope");
        List<String> scopes = scope instanceof String s ? List.of(s.split(" ")) : List.of();
        return new Authorized(flat, scopes);
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

    private Optional<RSAKey> key(String kid) throws IOException, InterruptedException {
        if (kid == null) {
            return Optional.empty();
        }
        JWKSet current = keys;
        boolean fresh = current != null && keysFetched.plus(KEY_CACHE).isAfter(clock.instant());
        if (!fresh || current.getKeyByKeyId(kid) == null) {
            // An unknown kid may be a rotated key: fetch again (a kid still unknown after that is refused).
            current = fetchKeys();
        }
        JWK key = current.getKeyByKeyId(kid);
        return key instanceof RSAKey rsa ? Optional.of(rsa) : Optional.empty();
    }

    private JWKSet fetchKeys() throws IOException, InterruptedException {
        JsonNode discovery = json.readTree(get(URI.create(issuer + "/.well-known/openid-configuration")));
        String jwksUri = discovery.path("jwks_uri").asText("");
        if (jwksUri.isEmpty()) {
            throw new IOException("the discovery document names no jwks_uri");
        }
        try {
            JWKSet fetched = JWKSet.parse(get(URI.create(jwksUri)));
            keys = fetched;
            keysFetched = clock.instant();
            return fetched;
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
