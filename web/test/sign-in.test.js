// Unit tests of the sign-in's token keeping (the OIDC exchange itself is exercised in real Chromium against the
// local identity provider: SignInBrowserTest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSignIn } from '../client/sign-in.js';

function memoryStorage(initial = {}) {
  const data = new Map(Object.entries(initial));
  return { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => data.set(k, String(v)), data };
}

const NOW = Date.parse('2026-11-29T12:00:00Z');
const saved = (value) => memoryStorage({ 'ccp-backstop.sign-in': JSON.stringify(value) });
const signIn = (storage, loginHint) => createSignIn({ issuer: 'https://idp.example.com', clientId: 'ccp', loginHint, storage,
  location: { href: 'https://ccp.example.com/ccp.html' }, history: { replaceState() {} }, now: () => NOW });

test('getToken_should_offerTheIdToken_whileItIsValidForAnotherMinute', async () => {
  assert.equal(await signIn(saved({ idToken: 'ok', expiresAt: NOW + 61_000, loginHint: null })).getToken(), 'ok');
  assert.equal(await signIn(saved({ idToken: 'late', expiresAt: NOW + 59_000, loginHint: null })).getToken(), null);
});

test('getToken_should_notOfferAnotherAgentsToken_when_theLoginHintChanged', async () => {
  const storage = saved({ idToken: 'ada', expiresAt: NOW + 3_600_000, loginHint: 'demo-ada' });

  assert.equal(await signIn(storage, 'demo-alan').getToken(), null);
  assert.equal(await signIn(storage, 'demo-ada').getToken(), 'ada');
});

test('getToken_should_beNull_when_nothingIsStoredOrTheStoreIsCorrupt', async () => {
  assert.equal(await signIn(memoryStorage()).getToken(), null);
  assert.equal(await signIn(memoryStorage({ 'ccp-backstop.sign-in': '{not json' })).getToken(), null);
});

test('completeCallback_should_doNothing_when_thePageWasNotRedirectedBackBySignIn', async () => {
  const storage = memoryStorage();
  assert.equal(await signIn(storage).completeCallback(), false);
  assert.equal(storage.data.size, 0);
});

// The Authorization Code + PKCE exchange against a scripted identity provider (fetch replaced; oauth4webapi does
// the protocol work: discovery, state and PKCE checks, the ID token's iss/aud/exp/nonce).
const ISSUER = 'https://idp.example.com/oauth2/default';
const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function idToken(claims) {
  return `${b64url({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64url(claims)}.${b64url('signature')}`;
}

function identityProvider({ reachable = true } = {}) {
  const requests = [];
  let tokenAnswer = null;
  const fetch = async (input, init = {}) => {
    const url = String(input instanceof Request ? input.url : input);
    const body = init.body ? String(init.body) : '';
    requests.push({ url, method: init.method ?? 'GET', body: new URLSearchParams(body) });
    if (!reachable) throw new TypeError('fetch failed');
    if (url === `${ISSUER}/.well-known/openid-configuration`) {
      return Response.json({ issuer: ISSUER, authorization_endpoint: `${ISSUER}/v1/authorize`, token_endpoint: `${ISSUER}/v1/token`,
        jwks_uri: `${ISSUER}/v1/keys` });
    }
    if (url === `${ISSUER}/v1/token`) return Response.json(tokenAnswer(new URLSearchParams(body)));
    return new Response('not found', { status: 404 });
  };
  return { requests, fetch, answer(fn) { tokenAnswer = fn; } };
}

async function withFetch(fetch, body) {
  const original = globalThis.fetch;
  globalThis.fetch = fetch;
  try {
    return await body();
  } finally {
    globalThis.fetch = original;
  }
}

function page(href) {
  const url = new URL(href);
  const assigned = [];
  const replaced = [];
  return {
    location: { href: url.href, origin: url.origin, pathname: url.pathname, search: url.search, hash: url.hash,
      assign: (to) => assigned.push(to) },
    history: { replaceState: (state, title, to) => replaced.push(to) },
    assigned, replaced,
  };
}

test('signIn_should_sendTheBrowserToTheAuthorizationEndpoint_withPkceS256StateNonceAndLoginHint', async () => {
  const idp = identityProvider();
  const storage = memoryStorage();
  const tab = page('https://ccp.example.com/ccp.html?agent=demo-ada#x');
  await withFetch(idp.fetch, () => createSignIn({ issuer: ISSUER, clientId: 'ccp', loginHint: 'demo-ada', storage,
    location: tab.location, history: tab.history }).signIn());

  const to = new URL(tab.assigned[0]);
  const { pending } = JSON.parse(storage.getItem('ccp-backstop.sign-in'));
  assert.equal(`${to.origin}${to.pathname}`, `${ISSUER}/v1/authorize`);
  assert.equal(to.searchParams.get('client_id'), 'ccp');
  assert.equal(to.searchParams.get('response_type'), 'code');
  assert.equal(to.searchParams.get('scope'), 'openid profile email');
  assert.equal(to.searchParams.get('redirect_uri'), 'https://ccp.example.com/ccp.html');
  assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
  const challenge = (await import('node:crypto')).createHash('sha256').update(pending.verifier).digest('base64url');
  assert.equal(to.searchParams.get('code_challenge'), challenge);
  assert.equal(to.searchParams.get('state'), pending.state);
  assert.equal(to.searchParams.get('nonce'), pending.nonce);
  assert.equal(to.searchParams.get('login_hint'), 'demo-ada');
  assert.equal(pending.returnTo, '/ccp.html?agent=demo-ada#x');
  assert.equal(pending.redirectUri, 'https://ccp.example.com/ccp.html');
});

test('signIn_should_sendNoLoginHint_when_noneIsGiven', async () => {
  const idp = identityProvider();
  const tab = page('https://ccp.example.com/ccp.html');
  await withFetch(idp.fetch, () => createSignIn({ issuer: ISSUER, clientId: 'ccp', storage: memoryStorage(),
    location: tab.location, history: tab.history }).signIn());
  assert.equal(new URL(tab.assigned[0]).searchParams.has('login_hint'), false);
});

async function signedInAndBack(idp, claims) {
  const storage = memoryStorage();
  const start = page('https://ccp.example.com/ccp.html?agent=demo-ada');
  await withFetch(idp.fetch, () => createSignIn({ issuer: ISSUER, clientId: 'ccp', loginHint: 'demo-ada', storage,
    location: start.location, history: start.history }).signIn());
  const { pending } = JSON.parse(storage.getItem('ccp-backstop.sign-in'));
  const now = Math.floor(Date.now() / 1000);
  idp.answer((form) => ({ token_type: 'Bearer', access_token: 'at', expires_in: 3600, refresh_token: 'rt',
    id_token: idToken({ iss: ISSUER, aud: 'ccp', sub: 'idp-ada', iat: now, exp: now + 3600, nonce: pending.nonce,
      preferred_username: 'ada', ...claims(form) }) }));
  const back = page(`https://ccp.example.com/ccp.html?code=abc&state=${pending.state}`);
  const signIn = createSignIn({ issuer: ISSUER, clientId: 'ccp', loginHint: 'demo-ada', storage, location: back.location,
    history: back.history });
  return { storage, back, signIn, pending };
}

test('completeCallback_should_exchangeTheCodeWithTheVerifier_keepTheIdToken_andPutTheAddressBack', async () => {
  const idp = identityProvider();
  const { back, signIn, pending } = await signedInAndBack(idp, () => ({}));

  const completed = await withFetch(idp.fetch, () => signIn.completeCallback());

  assert.equal(completed, true);
  const exchange = idp.requests.find((r) => r.url === `${ISSUER}/v1/token`);
  assert.equal(exchange.method, 'POST');
  assert.equal(exchange.body.get('grant_type'), 'authorization_code');
  assert.equal(exchange.body.get('code'), 'abc');
  assert.equal(exchange.body.get('code_verifier'), pending.verifier);
  assert.equal(exchange.body.get('redirect_uri'), 'https://ccp.example.com/ccp.html');
  assert.deepEqual(back.replaced, ['/ccp.html?agent=demo-ada']);
  const token = await signIn.getToken();
  assert.match(token, /^ey/);
  assert.equal(JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).preferred_username, 'ada');
});

test('completeCallback_should_refuse_when_theStateIsNotTheOneThisTabSent', async () => {
  const idp = identityProvider();
  const { storage, back } = await signedInAndBack(idp, () => ({}));
  const forged = page('https://ccp.example.com/ccp.html?code=abc&state=forged');
  const signIn = createSignIn({ issuer: ISSUER, clientId: 'ccp', loginHint: 'demo-ada', storage, location: forged.location,
    history: forged.history });

  await assert.rejects(withFetch(idp.fetch, () => signIn.completeCallback()));

  assert.equal(idp.requests.some((r) => r.url === `${ISSUER}/v1/token`), false, 'no code exchanged');
  assert.deepEqual(forged.replaced, ['/ccp.html?agent=demo-ada'], 'the address is put back all the same');
  assert.equal(back.replaced.length, 0);
  assert.equal(await signIn.getToken(), null);
});

test('completeCallback_should_refuse_when_theIdTokenIsForAnotherClientOrNonce', async () => {
  for (const claims of [{ aud: 'another-app' }, { nonce: 'replayed' }]) {
    const idp = identityProvider();
    const { signIn } = await signedInAndBack(idp, () => claims);
    await assert.rejects(withFetch(idp.fetch, () => signIn.completeCallback()), undefined, JSON.stringify(claims));
    assert.equal(await signIn.getToken(), null, JSON.stringify(claims));
  }
});

test('signIn_should_sayTheIdentityProviderCannotBeReached_when_discoveryFails', async () => {
  const idp = identityProvider({ reachable: false });
  const tab = page('https://ccp.example.com/ccp.html');
  await assert.rejects(withFetch(idp.fetch, () => createSignIn({ issuer: ISSUER, clientId: 'ccp', storage: memoryStorage(),
    location: tab.location, history: tab.history }).signIn()), new RegExp(`the identity provider at ${ISSUER} cannot be reached`));
  assert.equal(tab.assigned.length, 0);
});

test('getToken_should_refreshWithTheRefreshToken_when_theIdTokenExpired', async () => {
  const idp = identityProvider();
  const nowSeconds = Math.floor(Date.now() / 1000);
  idp.answer((form) => ({ token_type: 'Bearer', access_token: 'at2', expires_in: 3600,
    id_token: idToken({ iss: ISSUER, aud: 'ccp', sub: 'idp-ada', iat: nowSeconds, exp: nowSeconds + 3600, grant: form.get('grant_type') }) }));
  const storage = saved({ idToken: 'old', expiresAt: Date.now() - 1000, refreshToken: 'rt-1', loginHint: null });
  const signIn = createSignIn({ issuer: ISSUER, clientId: 'ccp', storage, location: page('https://ccp.example.com/ccp.html').location,
    history: { replaceState() {} } });

  const token = await withFetch(idp.fetch, () => signIn.getToken());

  const refresh = idp.requests.find((r) => r.url === `${ISSUER}/v1/token`);
  assert.equal(refresh.body.get('grant_type'), 'refresh_token');
  assert.equal(refresh.body.get('refresh_token'), 'rt-1');
  assert.equal(JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).grant, 'refresh_token');
});

test('getToken_should_refreshAValidToken_when_askedToRefresh_andBeNullWithoutARefreshToken', async () => {
  const idp = identityProvider();
  const nowSeconds = Math.floor(Date.now() / 1000);
  idp.answer(() => ({ token_type: 'Bearer', access_token: 'at2', expires_in: 3600,
    id_token: idToken({ iss: ISSUER, aud: 'ccp', sub: 'idp-ada', iat: nowSeconds, exp: nowSeconds + 3600, issued: 'anew' }) }));
  const location = page('https://ccp.example.com/ccp.html').location;
  const withRefresh = createSignIn({ issuer: ISSUER, clientId: 'ccp', location, history: { replaceState() {} },
    storage: saved({ idToken: 'kept', expiresAt: Date.now() + 3_600_000, refreshToken: 'rt-1', loginHint: null }) });
  const withoutRefresh = createSignIn({ issuer: ISSUER, clientId: 'ccp', location, history: { replaceState() {} },
    storage: saved({ idToken: 'kept', expiresAt: Date.now() + 3_600_000, loginHint: null }) });

  assert.equal(await withFetch(idp.fetch, () => withRefresh.getToken()), 'kept', 'still valid: no request');
  assert.equal(idp.requests.some((r) => r.url === `${ISSUER}/v1/token`), false);
  const fresh = await withFetch(idp.fetch, () => withRefresh.getToken({ refresh: true }));
  const refreshedWithoutAToken = await withFetch(idp.fetch, () => withoutRefresh.getToken({ refresh: true }));

  assert.equal(JSON.parse(Buffer.from(fresh.split('.')[1], 'base64url')).issued, 'anew');
  assert.equal(await withFetch(idp.fetch, () => withRefresh.getToken()), fresh, 'the new token is kept');
  assert.equal(refreshedWithoutAToken, null, 'the refused token is never offered again');
});

test('getToken_should_beNull_when_theRefreshIsRefused', async () => {
  const idp = identityProvider();
  idp.answer(() => ({ error: 'invalid_grant' }));
  const storage = saved({ idToken: 'old', expiresAt: Date.now() - 1000, refreshToken: 'rt-1', loginHint: null });
  const signIn = createSignIn({ issuer: ISSUER, clientId: 'ccp', storage, location: page('https://ccp.example.com/ccp.html').location,
    history: { replaceState() {} } });
  assert.equal(await withFetch(idp.fetch, () => signIn.getToken()), null);
});

test('signIn_should_talkPlainHttp_onlyToAnHttpIssuer_andDiscoverItOnce', async () => {
  // The local identity provider is served on http://127.0.0.1 (oauth4webapi refuses plain http unless told).
  const issuer = 'http://127.0.0.1:9400/default';
  const requests = [];
  const nowSeconds = Math.floor(Date.now() / 1000);
  const fetch = async (input, init = {}) => {
    const url = String(input instanceof Request ? input.url : input);
    requests.push(url);
    if (url === `${issuer}/.well-known/openid-configuration`) {
      return Response.json({ issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token` });
    }
    return Response.json({ token_type: 'Bearer', access_token: 'at', expires_in: 3600, refresh_token: 'rt-2',
      id_token: idToken({ iss: issuer, aud: 'ccp', sub: 'idp-ada', iat: nowSeconds, exp: nowSeconds + 3600 }) });
  };
  const tab = page('http://127.0.0.1:8080/ccp.html');
  const storage = memoryStorage();
  const signIn = createSignIn({ issuer, clientId: 'ccp', storage, location: tab.location, history: tab.history });
  await withFetch(fetch, () => signIn.signIn());
  assert.equal(new URL(tab.assigned[0]).origin + new URL(tab.assigned[0]).pathname, `${issuer}/authorize`);

  storage.setItem('ccp-backstop.sign-in', JSON.stringify({ idToken: 'old', expiresAt: Date.now() - 1000, refreshToken: 'rt-1', loginHint: null }));
  assert.ok(await withFetch(fetch, () => signIn.getToken()), 'refreshed over http');
  assert.equal(requests.filter((u) => u.endsWith('/.well-known/openid-configuration')).length, 1, 'discovered once');
  assert.equal(JSON.parse(storage.getItem('ccp-backstop.sign-in')).refreshToken, 'rt-2', 'the new refresh token is kept');
});

test('getToken_should_askNothingOfTheProvider_when_aTokenEndsWithinTheMinute_andNoRefreshTokenIsKept', async () => {
  const requests = [];
  const storage = saved({ idToken: 'edge', expiresAt: NOW + 60_000, refreshToken: null, loginHint: null });
  const token = await withFetch(async (url) => { requests.push(String(url)); throw new TypeError('no network'); },
    () => signIn(storage).getToken());
  assert.equal(token, null, 'exactly a minute left is not enough');
  assert.deepEqual(requests, []);
});

// Cognito's default: the refresh grant answers with new ID and access tokens only; the refresh token stays valid.
test('getToken_should_keepTheRefreshToken_when_theProviderDoesNotRotateIt', async () => {
  const idp = identityProvider();
  let issued = 0;
  idp.answer(() => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    issued += 1;
    return { token_type: 'Bearer', access_token: `at${issued}`, expires_in: 3600,
      id_token: idToken({ iss: ISSUER, aud: 'ccp', sub: 'idp-ada', iat: nowSeconds, exp: nowSeconds + 3600, n: issued }) };
  });
  const storage = saved({ idToken: 'old', expiresAt: Date.now() - 1000, refreshToken: 'rt-1', loginHint: null });
  const signIn = createSignIn({ issuer: ISSUER, clientId: 'ccp', storage, location: page('https://ccp.example.com/ccp.html').location,
    history: { replaceState() {} } });

  const first = await withFetch(idp.fetch, () => signIn.getToken());
  assert.equal(JSON.parse(storage.getItem('ccp-backstop.sign-in')).refreshToken, 'rt-1', 'still kept after a refresh');
  const second = await withFetch(idp.fetch, () => signIn.getToken({ refresh: true }));

  assert.ok(first && second && first !== second, 'both refreshes gave a token');
  const grants = idp.requests.filter((r) => r.url === `${ISSUER}/v1/token`).map((r) => r.body.get('refresh_token'));
  assert.deepEqual(grants, ['rt-1', 'rt-1']);
});

// A rotating provider (Okta, Auth0, Cognito with rotation) takes a reused refresh token for a theft and revokes
// the whole family: two refreshes at once must be one request.
test('getToken_should_sendOneRefreshGrant_when_twoCallersRefreshAtOnce', async () => {
  const idp = identityProvider();
  let issued = 0;
  idp.answer((form) => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    issued += 1;
    return { token_type: 'Bearer', access_token: `at${issued}`, expires_in: 3600, refresh_token: `${form.get('refresh_token')}-next`,
      id_token: idToken({ iss: ISSUER, aud: 'ccp', sub: 'idp-ada', iat: nowSeconds, exp: nowSeconds + 3600, n: issued }) };
  });
  const storage = saved({ idToken: 'old', expiresAt: Date.now() - 1000, refreshToken: 'rt-1', loginHint: null });
  const signIn = createSignIn({ issuer: ISSUER, clientId: 'ccp', storage, location: page('https://ccp.example.com/ccp.html').location,
    history: { replaceState() {} } });

  const tokens = await withFetch(idp.fetch, () => Promise.all([signIn.getToken(), signIn.getToken({ refresh: true }), signIn.getToken()]));

  const grants = idp.requests.filter((r) => r.url === `${ISSUER}/v1/token`);
  assert.equal(grants.length, 1, 'one refresh grant');
  assert.ok(tokens[0]);
  assert.deepEqual(tokens, [tokens[0], tokens[0], tokens[0]]);
  assert.equal(JSON.parse(storage.getItem('ccp-backstop.sign-in')).refreshToken, 'rt-1-next');

  // Once it settled, the next refresh is a request of its own, with the rotated token.
  await withFetch(idp.fetch, () => signIn.getToken({ refresh: true }));
  assert.deepEqual(idp.requests.filter((r) => r.url === `${ISSUER}/v1/token`).map((r) => r.body.get('refresh_token')), ['rt-1', 'rt-1-next']);
});

test('createSignIn_should_refusePlainHttp_when_theIssuerIsNotOnLoopback', () => {
  const make = (issuer) => () => createSignIn({ issuer, clientId: 'ccp', storage: memoryStorage(),
    location: page('https://ccp.example.com/ccp.html').location, history: { replaceState() {} } });
  assert.throws(make('http://idp.example.com/oauth2/default'), /must be https \(plain http only on this machine's loopback\)/);
  assert.throws(make('http://10.0.0.7:9400/default'), /must be https/);
  assert.throws(make('http://127.0.0.1.example.com/default'), /must be https/);
  for (const loopback of ['http://127.0.0.1:9400/default', 'http://localhost:9400/default', 'http://[::1]:9400/default', 'https://idp.example.com']) {
    assert.doesNotThrow(make(loopback), loopback);
  }
});

test('completeCallback_should_beFalse_when_theTokenCouldNotBeStored', async () => {
  const idp = identityProvider();
  const { storage, signIn } = await signedInAndBack(idp, () => ({}));
  const setItem = storage.setItem;
  storage.setItem = () => { throw new DOMException('quota exceeded', 'QuotaExceededError'); };

  const completed = await withFetch(idp.fetch, () => signIn.completeCallback());

  storage.setItem = setItem;
  assert.equal(completed, false);
  assert.equal(await signIn.getToken(), null);
});
