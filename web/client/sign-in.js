// Signs the agent in with the contact centre's OpenID Connect identity provider: Authorization Code with PKCE
// (a public client: no secret in the page), through oauth4webapi (a dependency of this package). The ID token it
// yields is the bearer token of the register request, which API Gateway's JWT authorizer checks; heartbeat
// and close never need it. Tokens stay in this tab's sessionStorage, so a reload keeps the agent signed in.
import * as oauth from 'oauth4webapi';

const KEY = 'ccp-backstop.sign-in';
/** A token this close to its expiry is not offered: the register could reach the authorizer after it. */
const EXPIRY_MARGIN_MS = 60_000;

/**
 * @param {object} options
 * @param {string} options.issuer    the identity provider's issuer URL (as its tokens' iss)
 * @param {string} options.clientId  the CCP page's OAuth client id (public client, PKCE)
 * @param {string} [options.scope]
 * @param {string} [options.loginHint] who signs in (the local demo names its agent; production leaves it out)
 */
export function createSignIn({ issuer, clientId, scope = 'openid profile email', loginHint,
  storage = globalThis.sessionStorage, location = globalThis.location, history = globalThis.history, now = () => Date.now() }) {
  const issuerUrl = new URL(issuer);
  // oauth4webapi refuses plain http unless told: only the local IdP on 127.0.0.1 is served that way.
  const options = issuerUrl.protocol === 'http:' ? { [oauth.allowInsecureRequests]: true } : {};
  const client = { client_id: clientId };
  let server;

  async function authorizationServer() {
    if (!server) {
      let response;
      try {
        response = await oauth.discoveryRequest(issuerUrl, { algorithm: 'oidc', ...options });
      } catch (error) {
        throw new Error(`the identity provider at ${issuer} cannot be reached (${error.message})`);
      }
      server = await oauth.processDiscoveryResponse(issuerUrl, response);
    }
    return server;
  }

  const read = () => {
    try {
      return JSON.parse(storage.getItem(KEY) ?? '{}') ?? {};
    } catch {
      return {};
    }
  };
  const write = (value) => storage.setItem(KEY, JSON.stringify(value));

  function remember(result, hint) {
    const claims = oauth.getValidatedIdTokenClaims(result);
    if (!result.id_token || !claims) return false;
    write({ idToken: result.id_token, expiresAt: claims.exp * 1000, refreshToken: result.refresh_token ?? null, loginHint: hint ?? null });
    return true;
  }

  return {
    /**
     * Completes a sign-in this tab started, when the identity provider just redirected back (?code=&state=):
     * exchanges the code (with the PKCE verifier), keeps the ID token, and puts the page's own address back.
     * True when it did.
     */
    async completeCallback() {
      const url = new URL(location.href);
      const { pending } = read();
      if (!pending || !url.searchParams.has('state')) return false;
      const as = await authorizationServer();
      try {
        const params = oauth.validateAuthResponse(as, client, url, pending.state);
        const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, pending.redirectUri,
          pending.verifier, options);
        const result = await oauth.processAuthorizationCodeResponse(as, client, response,
          { expectedNonce: pending.nonce, requireIdToken: true });
        remember(result, pending.loginHint);
      } finally {
        history.replaceState(null, '', pending.returnTo);
      }
      return true;
    },

    /** Sends the browser to the identity provider's sign-in; it comes back to this page's address. */
    async signIn() {
      const as = await authorizationServer();
      const verifier = oauth.generateRandomCodeVerifier();
      const pending = {
        verifier,
        state: oauth.generateRandomState(),
        nonce: oauth.generateRandomNonce(),
        redirectUri: `${location.origin}${location.pathname}`,
        returnTo: `${location.pathname}${location.search}${location.hash}`,
        loginHint: loginHint ?? null,
      };
      write({ pending });
      const url = new URL(as.authorization_endpoint);
      url.searchParams.set('client_id', clientId);
      url.searchParams.set('redirect_uri', pending.redirectUri);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('scope', scope);
      url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
      url.searchParams.set('code_challenge_method', 'S256');
      url.searchParams.set('state', pending.state);
      url.searchParams.set('nonce', pending.nonce);
      if (loginHint) url.searchParams.set('login_hint', loginHint);
      location.assign(url.href);
    },

    /**
     * The ID token while it is valid (for another minute at least); refreshed with the refresh token when the
     * provider gave one; null when the agent must sign in again. A token of another login hint (the local demo
     * switching agents) does not count. {refresh: true} (the API refused the token) skips the kept one: only a
     * token issued anew will do, or null.
     */
    async getToken({ refresh = false } = {}) {
      const saved = read();
      if ((saved.loginHint ?? null) !== (loginHint ?? null)) return null;
      if (!refresh && saved.idToken && saved.expiresAt - EXPIRY_MARGIN_MS > now()) return saved.idToken;
      if (!saved.refreshToken) return null;
      try {
        const as = await authorizationServer();
        const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), saved.refreshToken, options);
        const result = await oauth.processRefreshTokenResponse(as, client, response);
        return remember(result, saved.loginHint) ? read().idToken : null;
      } catch {
        return null;
      }
    },
  };
}
