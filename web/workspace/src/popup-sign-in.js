// Signs the agent in from inside the workspace's service iframe: Authorization Code with PKCE in a popup (a
// top-level window on the service's own origin, so the identity provider's own session cookie works there as
// first-party), the code handed back to this iframe by postMessage, and the tokens kept in this module's memory
// only. Nothing goes to cookies, localStorage or sessionStorage: in a cross-site iframe those are partitioned or
// blocked (third-party cookies off), and memory is all a headless service needs for the life of the workspace.
// A reload of the workspace signs in again (the IdP's session makes that one popup round trip, no typing).
import * as oauth from 'oauth4webapi';

const MESSAGE = 'ccp-backstop.sign-in';
/** A token this close to its expiry is not offered: the register could reach the authorizer after it. */
const EXPIRY_MARGIN_MS = 60_000;
/** How long the popup may take (the agent may have to type a password and pass a second factor). */
export const SIGN_IN_TIMEOUT_MS = 180_000;

/**
 * @param {object} options
 * @param {string} options.issuer
 * @param {string} options.clientId    the service's OAuth client (public, PKCE); its redirect URI is callbackUrl
 * @param {string} [options.scope]
 * @param {string} [options.loginHint]
 * @param {string} options.callbackUrl the service's signed-in.html (same origin as this page)
 */
export function createPopupSignIn({ issuer, clientId, scope = 'openid profile email', loginHint, callbackUrl,
  win = globalThis, now = () => Date.now(), timeoutMs = SIGN_IN_TIMEOUT_MS }) {
  const issuerUrl = new URL(issuer);
  const options = issuerUrl.protocol === 'http:' ? { [oauth.allowInsecureRequests]: true } : {};
  const client = { client_id: clientId };
  let server;
  let tokens = null; // { idToken, expiresAt, refreshToken }: memory only

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

  function remember(result) {
    const claims = oauth.getValidatedIdTokenClaims(result);
    if (!result.id_token || !claims) return false;
    tokens = { idToken: result.id_token, expiresAt: claims.exp * 1000, refreshToken: result.refresh_token ?? tokens?.refreshToken ?? null };
    return true;
  }

  /** The callback page's message with the redirect's URL, from our own origin and for this sign-in's state. */
  function awaitCallback(popup, state) {
    return new Promise((resolve, reject) => {
      const done = (fn, value) => {
        win.removeEventListener('message', onMessage);
        win.clearInterval(watch);
        win.clearTimeout(timer);
        fn(value);
      };
      const onMessage = (event) => {
        if (event.origin !== win.location.origin || event.data?.type !== MESSAGE) return;
        const url = new URL(event.data.url);
        if (url.searchParams.get('state') !== state) return;
        done(resolve, url);
      };
      win.addEventListener('message', onMessage);
      const watch = win.setInterval(() => { if (popup.closed) done(reject, new Error('the sign-in window was closed')); }, 500);
      const timer = win.setTimeout(() => done(reject, new Error('the sign-in did not finish in time')), timeoutMs);
    });
  }

  return {
    /** Opens the identity provider's sign-in in a popup and waits for it; rejects when blocked, closed or failed. */
    async signIn() {
      const as = await authorizationServer();
      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const nonce = oauth.generateRandomNonce();
      const url = new URL(as.authorization_endpoint);
      url.searchParams.set('client_id', clientId);
      url.searchParams.set('redirect_uri', callbackUrl);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('scope', scope);
      url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
      url.searchParams.set('code_challenge_method', 'S256');
      url.searchParams.set('state', state);
      url.searchParams.set('nonce', nonce);
      if (loginHint) url.searchParams.set('login_hint', loginHint);
      const popup = win.open(url.href, 'ccp-backstop-sign-in', 'popup,width=480,height=640');
      if (!popup) throw new Error('the browser blocked the sign-in window (allow pop-ups for the agent workspace)');
      const returned = await awaitCallback(popup, state);
      const params = oauth.validateAuthResponse(as, client, returned, state);
      const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, callbackUrl, verifier, options);
      const result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
      if (!remember(result)) throw new Error('the identity provider gave no usable ID token');
    },

    /** As the client's getToken: the ID token while valid, a refreshed one, or null (sign in again). */
    async getToken({ refresh = false } = {}) {
      if (!tokens) return null;
      if (!refresh && tokens.expiresAt - EXPIRY_MARGIN_MS > now()) return tokens.idToken;
      if (!tokens.refreshToken) return null;
      try {
        const as = await authorizationServer();
        const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refreshToken, options);
        return remember(await oauth.processRefreshTokenResponse(as, client, response)) ? tokens.idToken : null;
      } catch {
        return null;
      }
    },
  };
}

/** The callback page's whole job: hand the redirect's URL (code and state) to the iframe that opened it. */
export function handBackToOpener(win = globalThis) {
  if (!win.opener) return false;
  win.opener.postMessage({ type: MESSAGE, url: win.location.href }, win.location.origin);
  win.close();
  return true;
}
