package backstop.local.identity;

import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.connect.ConnectEmulator;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Bearer tokens for tests. Demo agents sign in through the local IdP's real authorization-code flow; agents a
 * test adds to the Connect emulator get a token the IdP would issue them (its claims, signed with its key), and
 * hostile tests edit those claims or sign with something else.
 */
public final class Tokens {
    private Tokens() {
    }

    /** userId -> a valid token for that agent of the stack's instance (one per agent, cached: they last an hour). */
    public static Function<String, String> forAgentsOf(LocalStack stack) {
        Map<String, String> cache = new ConcurrentHashMap<>();
        return userId -> cache.computeIfAbsent(userId, id -> {
            if (DemoInstance.AGENTS.stream().anyMatch(a -> a.userId().equals(id))) {
                return stack.identity().idTokenFor(id);
            }
            String username;
            try {
                ConnectEmulator.AgentView view = stack.connect().agentView(stack.instanceId(), id);
                username = view == null ? id : view.username();
            } catch (RuntimeException unknown) {
                username = id;
            }
            return signed(stack.identity().signingKey(), JWSAlgorithm.RS256, claims(stack.identity(), username).build());
        });
    }

    private static final java.util.regex.Pattern AGENT = java.util.regex.Pattern.compile("/agent/([A-Za-z0-9_.@-]+)");

    /**
     * The Authorization header a signed-in page sends with this register body: the named agent's own token (a body
     * naming no agent, as hostile and malformed ones: demo-ada's, so the request reaches the function).
     */
    public static String bearerFor(Function<String, String> tokens, String registerBody) {
        java.util.regex.Matcher agent = AGENT.matcher(registerBody);
        return "Bearer " + tokens.apply(agent.find() ? agent.group(1) : "demo-ada");
    }

    /** The claims the local IdP puts in a token for {@code username}, valid for an hour from now. */
    public static JWTClaimsSet.Builder claims(LocalIdentityProvider idp, String username) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder()
                .issuer(idp.issuer().toString())
                .audience(List.of(LocalIdentityProvider.CLIENT_ID))
                .subject("idp-" + username)
                .claim("preferred_username", username)
                .claim("client_id", LocalIdentityProvider.CLIENT_ID)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(3600)))
                .jwtID(UUID.randomUUID().toString());
    }

    public static String signed(RSAKey key, JWSAlgorithm algorithm, JWTClaimsSet claims) {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(algorithm).keyID(key.getKeyID()).type(JOSEObjectType.JWT).build(), claims);
        try {
            jwt.sign(new RSASSASigner(key));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }
}
