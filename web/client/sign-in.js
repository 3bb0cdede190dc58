// Signs the agent in with the contact centre's OpenID Connect identity provider: Authorization Code with PKCE
// (a public client: no secret in the page), through oauth4webapi (a dependency of this package). The ID token it
// yields is the bearer token of the register request, which API Gateway's JWT authorizer checks; heartbeat
// and close never need it. Tokens stay in this tab's sessionStorage, so a reload keeps the agent signed in.
import * as oauth from 'oauth4webapi';

const KEY = 'ccp-backstop.sign-in';
/** A token this close to its expiry is not offered: the register could reach the authorizer after it. */
const EXPIRY_MARGIN_MS = 60_000;

/** This machine: 127.0.0.0/8, ::1 or localhost (browsers resolve localhost to loopback only). */
const isLoopback = (hostname) => hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);

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
  // oauth4webapi refuses plain http unless told: only an identity provider on this machine (the local stack's, on
  // 127.0.0.1) may be spoken to that way; any other http issuer would send the agent's tokens in clear.
  if (issuerUrl.protocol === 'http:' && !isLoopback(issuerUrl.hostname)) {
    throw new TypeError(`the identity provider's issuer must be https (plain http only on this machine's loopback): ${issuer}`);
  }
  const options = issuerUrl.protocol === 'http:' ? { [oauth.allowInsecureRequests]: true } : {};
  const client = { client_id: clientId };
  let server;
  let refreshing = null; // the refresh in flight: concurrent callers share it

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

  /**
   * Keeps the tokens; true when the ID token is stored. A provider that does not rotate refresh tokens (Cognito's
   * default) sends none with a refresh: the one it was made with stays valid and is kept.
   */
  function remember(result, hint, previousRefreshToken = null) {
    const claims = oauth.getValidatedIdTokenClaims(result);
    if (!result.id_token || !claims) return false;
    try {
      write({ idToken: result.id_token, expiresAt: claims.exp * 1000, refreshToken: result.refresh_token ?? previousRefreshToken,
        loginHint: hint ?? null });
    } catch {
      return false; // storage refused (full, or disabled): nothing is kept
    }
    return read().idToken === result.id_token;
  }

  /** One refresh grant at a time: a rotating provider revokes the whole token family when a refresh token is reused. */
  function refreshOnce(saved) {
    refreshing ??= (async () => {
      try {
        const as = await authorizationServer();
        const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), saved.refreshToken, options);
        const result = await oauth.processRefreshTokenResponse(as, client, response);
        return remember(result, saved.loginHint, saved.refreshToken) ? read().idToken : null;
      } catch {
        return null;
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  return {
    /**
     * Completes a sign-in this tab started, when the identity provider just redirected back (?code=&state=):
     * exchanges the code (with the PKCE verifier), keeps the ID token, and puts the page's own address back.
     * True when an ID token is now kept; false when there was nothing to complete or nothing could be stored.
     * Call it first, before getToken(): it is what turns the provider's redirect into a kept token.
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
        return remember(result, pending.loginHint);
      } finally {
        history.replaceState(null, '', pending.returnTo);
      }
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
      return refreshOnce(saved);
    },
  };
}
