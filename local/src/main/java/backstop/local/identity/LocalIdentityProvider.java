package backstop.local.identity;

import backstop.core.json.Json;
import backstop.local.DemoInstance;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.oauth2.sdk.TokenRequest;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.token.KeyProvider;
import no.nav.security.mock.oauth2.token.OAuth2TokenCallback;
import no.nav.security.mock.oauth2.token.OAuth2TokenProvider;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The contact centre's identity provider, on one machine: a real OpenID Connect server (navikt's
 * mock-oauth2-server: discovery, JWKS, authorization code with PKCE, token endpoint, RS256-signed tokens) whose
 * users are the demo agents. Its sign-in page signs the {@code login_hint} user in at once when that is a demo
 * agent (the demo's single sign-on: {@code ccp.html?agent=demo-ada} opens a protected page in one step; an agent
 * a test adds to the Connect emulator signs in under their user id as username), and without a hint lists the demo
 * agents to choose from. It checks no password: it stands in for the contact centre's single sign-on, and what
 * the backstop checks (the token's signature, issuer, audience, expiry, and its user against Connect's) is real.
 *
 * <p>Tokens name the agent the way a contact centre's IdP usually does: {@code sub} an opaque id,
 * {@code preferred_username} the Connect username (the default AGENT_IDENTITY_CLAIM), {@code email}, {@code name}.
 */
public final class LocalIdentityProvider implements AutoCloseable {
    /** The issuer's path: the issuer URL is {@code http://127.0.0.1:<port>/ccp-backstop}. */
    public static final String ISSUER_ID = "ccp-backstop";
    /** The page's OAuth client id, which is also the tokens' audience (an ID token's aud is its client). */
    public static final String CLIENT_ID = "ccp-backstop-local";
    public static final long TOKEN_SECONDS = 3600;

    private final MockOAuth2Server server;
    private final KeyProvider keys;
    private final Path loginPage;

    private LocalIdentityProvider(MockOAuth2Server server, KeyProvider keys, Path loginPage) {
        this.server = server;
        this.keys = keys;
        this.loginPage = loginPage;
    }

    public static LocalIdentityProvider start(int port) throws IOException {
        Path page = Files.createTempFile("ccp-backstop-idp-login", ".html");
        Files.writeString(page, loginPageHtml(), StandardCharsets.UTF_8);
        page.toFile().deleteOnExit();
        KeyProvider keys = new KeyProvider(List.of(), JWSAlgorithm.RS256.getName()); // an RSA key made per issuer
        OAuth2TokenProvider tokens = new OAuth2TokenProvider(keys, Instant::now);
        OAuth2Config base = new OAuth2Config(true, page.toString(), null, false);
        OAuth2Config config = new OAuth2Config(true, page.toString(), null, false, tokens, Set.of(new PageClientCallback()),
                base.getHttpServer());
        MockOAuth2Server server = new MockOAuth2Server(config);
        server.start(InetAddress.getLoopbackAddress(), port);
        return new LocalIdentityProvider(server, keys, page);
    }

    /**
     * The issuer identifier, exactly as it appears in tokens' {@code iss} and in the discovery document. The
     * server names its issuer after the Host a request came to, so everything (page, token command, front) uses
     * this one address: 127.0.0.1, never "localhost" (which may resolve to ::1 first).
     */
    public URI issuer() {
        return URI.create("http://127.0.0.1:" + port() + "/" + ISSUER_ID);
    }

    public int port() {
        return server.baseUrl().port();
    }

    /**
     * The issuer's own signing key (private part included), for tests that forge tokens the IdP would never
     * issue (expired, another audience, another issuer) yet signed by the key the authorizer trusts.
     */
    public RSAKey signingKey() {
        return (RSAKey) keys.signingKey(ISSUER_ID);
    }

    /**
     * Signs a demo agent in the way the page does, over real HTTP: the authorization request with PKCE and the
     * agent as login hint, the sign-in form posted as the login page posts it, the code exchanged at the token
     * endpoint. Returns the ID token (what the page sends as its bearer token). For tests, benchmarks and
     * {@code local/bin/token}.
     */
    public String idTokenFor(String demoUserId) {
        DemoInstance.DemoAgent agent = DemoInstance.AGENTS.stream().filter(a -> a.userId().equals(demoUserId)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(demoUserId + " is not a demo agent"));
        String redirect = "http://127.0.0.1/callback";
        String verifier = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(32));
        String challenge;
        try {
            challenge = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                    java.security.MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        String authorize = issuer() + "/authorize?" + form(Map.of("client_id", CLIENT_ID,
                "response_type", "code", "scope", "openid profile email", "redirect_uri", redirect, "state", "s",
                "nonce", "n", "code_challenge", challenge, "code_challenge_method", "S256", "login_hint", demoUserId));
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient(); // never follows redirects
        try {
            var login = http.send(java.net.http.HttpRequest.newBuilder(URI.create(authorize))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(form(Map.of("username", subjectOf(agent),
                            "claims", Json.write(claimsOf(agent)))))).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            String location = login.headers().firstValue("Location")
                    .orElseThrow(() -> new IllegalStateException("the IdP did not redirect after sign-in: " + login.statusCode()));
            String code = java.util.Arrays.stream(URI.create(location).getRawQuery().split("&"))
                    .filter(p -> p.startsWith("code=")).map(p -> java.net.URLDecoder.decode(p.substring(5), StandardCharsets.UTF_8))
                    .findFirst().orElseThrow(() -> new IllegalStateException("no code in " + location));
            var token = http.send(java.net.http.HttpRequest.newBuilder(URI.create(issuer() + "/token"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(form(Map.of("grant_type", "authorization_code",
                            "code", code, "redirect_uri", redirect, "client_id", CLIENT_ID, "code_verifier", verifier))))
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            if (token.statusCode() != 200) {
                throw new IllegalStateException("the token endpoint answered " + token.statusCode() + ": " + token.body());
            }
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(token.body()).path("id_token").asText();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        new java.security.SecureRandom().nextBytes(bytes);
        return bytes;
    }

    private static String form(Map<String, String> fields) {
        return fields.entrySet().stream().map(e -> java.net.URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                + java.net.URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(java.util.stream.Collectors.joining("&"));
    }

    /** The claims a demo agent's token carries beyond the registered ones. */
    public static Map<String, Object> claimsOf(DemoInstance.DemoAgent agent) {
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("preferred_username", agent.username());
        claims.put("email", agent.username() + "@example.com");
        claims.put("name", agent.firstName() + " " + agent.lastName());
        return claims;
    }

    /** The IdP's user id of a demo agent ({@code sub}): opaque, as real IdPs make it, and not the Connect user id. */
    public static String subjectOf(DemoInstance.DemoAgent agent) {
        return "idp-" + agent.userId();
    }

    private static String loginPageHtml() {
        Map<String, Object> directory = new LinkedHashMap<>();
        for (DemoInstance.DemoAgent agent : DemoInstance.AGENTS) {
            directory.put(agent.userId(), Map.of("sub", subjectOf(agent), "claims", claimsOf(agent)));
        }
        return """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><title>Local identity provider · ccp-backstop</title>
                <style>body{font:16px system-ui;margin:3rem auto;max-width:32rem}button{display:block;margin:.4rem 0;padding:.5rem 1rem}</style>
                </head><body>
                <h1>Local identity provider</h1>
                <p>The contact centre's sign-in, on this machine. Choose a demo agent:</p>
                <form method="post" id="login">
                  <input type="hidden" name="username"><input type="hidden" name="claims">
                  <div id="agents"></div>
                </form>
                <script>
                const directory = %s;
                const form = document.getElementById('login');
                function signIn(hint) {
                  // An agent added to the emulator beyond the demo ones signs in under their own id as username.
                  const user = directory[hint] ?? { sub: 'idp-' + hint, claims: { preferred_username: hint } };
                  form.username.value = user.sub;
                  form.claims.value = JSON.stringify(user.claims);
                  form.submit();
                }
                const hint = new URLSearchParams(location.search).get('login_hint');
                if (hint && /^[A-Za-z0-9_.@-]{1,100}$/.test(hint)) {
                  signIn(hint); // single sign-on for the demo: the page named its agent
                } else {
                  for (const [hint, user] of Object.entries(directory)) {
                    const button = document.createElement('button');
                    button.type = 'button';
                    button.textContent = user.claims.name + ' (' + user.claims.preferred_username + ')';
                    button.addEventListener('click', () => signIn(hint));
                    document.getElementById('agents').append(button);
                  }
                }
                </script>
                </body></html>
                """.formatted(Json.write(directory));
    }

    @Override
    public void close() {
        server.shutdown();
        try {
            Files.deleteIfExists(loginPage);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Tokens for the page's client: audience the client id, an hour long; the signed-in user's claims come from the login. */
    private static final class PageClientCallback implements OAuth2TokenCallback {
        @Override
        public String issuerId() {
            return ISSUER_ID;
        }

        @Override
        public String subject(TokenRequest tokenRequest) {
            return "unknown"; // replaced by the signed-in user's sub
        }

        @Override
        public String typeHeader(TokenRequest tokenRequest) {
            return "JWT";
        }

        @Override
        public List<String> audience(TokenRequest tokenRequest) {
            return List.of(CLIENT_ID);
        }

        @Override
        public Map<String, Object> addClaims(TokenRequest tokenRequest) {
            return Map.of("client_id", CLIENT_ID);
        }

        @Override
        public long tokenExpiry() {
            return TOKEN_SECONDS;
        }
    }
}
