// The CCP page's boot script (js/ccp-page.js) run as the browser runs it: imported as a module on the real
// ccp.html (linkedom), with the page's globals (fetch, location, sessionStorage, Worker, navigator...) scripted.
// What it must do: read config.json, offer the demo agents, sign in first when configured, pick the simulated or the
// real Streams, add the backstop with one call and keep the agent's status on screen. (The browser tier runs it
// in Chromium against the whole local stack; this tier runs it where mutants can be run against it.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseHTML } from 'linkedom';

const HTML = readFileSync(new URL('../ccp.html', import.meta.url), 'utf8');
const API = 'https://api.example.com';
const EMULATOR = 'http://127.0.0.1:9100';
const INSTANCE_ARN = 'arn:aws:connect:eu-west-2:123456789012:instance/demo';
const ISSUER = 'https://idp.example.com/oauth2/default';
const SIGN_IN_KEY = 'ccp-backstop.sign-in';
const SESSION = { sessionId: 'S'.repeat(22), token: 'T'.repeat(43), heartbeatSeconds: 30, restore: null, otherSessions: 0 };
const LOCAL = {
  mode: 'local', apiBase: API, emulatorBase: EMULATOR, instanceId: 'demo', instanceArn: INSTANCE_ARN,
  agents: [{ userId: 'demo-ada', name: 'Ada Lovelace' }, { userId: 'demo/alan', name: 'Alan Turing' }],
  auth: { issuer: ISSUER, clientId: 'ccp' },
};
/** A valid ID token kept in the tab, for the login hint the page signs in with. */
const keptToken = (loginHint) => ({ [SIGN_IN_KEY]: { idToken: 'kept-id-token', expiresAt: Date.now() + 3_600_000, loginHint } });
const STATUSES = [{ id: 'available', name: 'Available', type: 'ROUTABLE' }, { id: 'offline', name: 'Offline', type: 'OFFLINE' }];

let boots = 0;

function deferred() {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, resolve };
}

/** The browser's globals for one page load; every request the page makes is recorded. */
function browser({ config, search = '', storage = {}, emulatorHeld = null, answers = {} }) {
  const { document } = parseHTML(HTML);
  const requests = [];
  const intervals = [];
  const assigned = [];
  const beacons = [];
  const listeners = new Map();
  const data = new Map(Object.entries(storage).map(([k, v]) => [k, JSON.stringify(v)]));
  const agent = { firstName: 'Ada', lastName: 'Lovelace', statusId: 'available', statusName: 'Available', statusType: 'ROUTABLE',
    nextStatusName: null, contactId: null };
  const emulatorBase = `${EMULATOR}/_emulator/instances/demo`;
  const fetch = async (input, init = {}) => {
    const url = String(input instanceof Request ? input.url : input);
    requests.push({ url, init });
    if (answers[url]) return answers[url](init);
    if (url === 'config.json') return Response.json(config);
    if (url === emulatorBase) return Response.json({ statuses: STATUSES });
    if (url === `${emulatorBase}/agents/demo-ada`) {
      if (emulatorHeld) await emulatorHeld.promise;
      return Response.json({ ...agent });
    }
    if (url === `${API}/sessions`) return Response.json(SESSION, { status: 201 });
    if (url === `${ISSUER}/.well-known/openid-configuration`) {
      return Response.json({ issuer: ISSUER, authorization_endpoint: `${ISSUER}/v1/authorize`, token_endpoint: `${ISSUER}/v1/token` });
    }
    return new Response('not found', { status: 404 });
  };
  const href = `https://ccp.example.com/ccp.html${search}`;
  const globals = {
    document,
    fetch,
    location: { href, origin: 'https://ccp.example.com', pathname: '/ccp.html', search, hash: '', assign: (to) => assigned.push(to) },
    history: { replaceState() {} },
    sessionStorage: { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => data.set(k, String(v)) },
    navigator: { sendBeacon: (url, body) => { beacons.push({ url, body }); return true; } },
    Worker: class { postMessage() {} terminate() {} },
    BroadcastChannel: class { postMessage() {} close() {} },
    addEventListener: (type, fn) => listeners.set(type, [...(listeners.get(type) ?? []), fn]),
    removeEventListener() {},
    // The simulated Streams polls the emulator every second: the test runs a poll when it wants one.
    setInterval: (fn, ms) => { intervals.push({ fn, ms }); return intervals.length; },
    clearInterval() {},
    connect: undefined,
  };
  return { document, requests, intervals, assigned, beacons, listeners, globals, agent, data };
}

/** Loads js/ccp-page.js as a fresh module on these globals (a page load); the globals stay for the test's length. */
async function load(t, page) {
  const saved = Object.fromEntries(Object.keys(page.globals).map((k) => [k, Object.getOwnPropertyDescriptor(globalThis, k)]));
  for (const [k, v] of Object.entries(page.globals)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
  t.after(() => {
    for (const [k, d] of Object.entries(saved)) {
      if (d) Object.defineProperty(globalThis, k, d);
      else delete globalThis[k];
    }
  });
  boots += 1;
  await import(`../js/ccp-page.js?load=${boots}`);
  return page;
}

/** Waits for the condition itself (the sign-in's PKCE digest runs on libuv's thread pool: no count of turns will do). */
async function until(condition, what) {
  const deadline = Date.now() + 20_000;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
  assert.ok(condition(), `not reached: ${what}`);
}

const text = (page, selector) => page.document.querySelector(selector).textContent;
const isHidden = (page, selector) => page.document.querySelector(selector).hidden === true
  || page.document.querySelector(selector).hasAttribute('hidden');

test('localPage_should_offerTheDemoAgents_andStartNothing_when_noAgentIsNamed', async (t) => {
  const page = await load(t, browser({ config: LOCAL }));
  await until(() => !isHidden(page, '#picker'), 'the agent picker');

  const links = [...page.document.querySelectorAll('#picker a')];
  assert.deepEqual(links.map((a) => a.getAttribute('href')), ['?agent=demo-ada', '?agent=demo%2Falan']);
  assert.deepEqual(links.map((a) => a.textContent), ['Ada Lovelace (demo-ada)', 'Alan Turing (demo/alan)']);
  assert.equal(isHidden(page, '#console'), true);
  assert.deepEqual(page.requests.map((r) => r.url), ['config.json'], 'only the configuration is read');
  assert.deepEqual(page.requests[0].init, { cache: 'no-store' }, 'a redeployed configuration is read at once');
});

test('localPage_should_waitForTheAgent_thenShowThem_registerWithTheKeptToken_andFollowTheirStatus', async (t) => {
  const emulatorHeld = deferred();
  const page = await load(t, browser({ config: LOCAL, search: '?agent=demo-ada', emulatorHeld, storage: keptToken('demo-ada') }));
  // (ccp.html starts as data-backstop="idle" and "Starting…": the page's own word is the sign it started.)
  await until(() => text(page, '#backstop-state') === 'Waiting for the agent…', 'the backstop waiting for the agent');
  assert.equal(page.document.body.dataset.backstop, 'idle');
  assert.equal(isHidden(page, '#console'), false, 'the console shows while Streams loads');
  assert.equal(page.requests.some((r) => r.url.startsWith(API)), false, 'no register before the agent is known');

  emulatorHeld.resolve();
  await until(() => page.document.body.dataset.backstop === 'open', 'the session open');
  const register = page.requests.find((r) => r.url === `${API}/sessions`);
  assert.equal(register.init.method, 'POST');
  assert.equal(register.init.headers.Authorization, 'Bearer kept-id-token');
  assert.equal(JSON.parse(register.init.body).agentArn, `${INSTANCE_ARN}/agent/demo-ada`);
  assert.equal(text(page, '#agent-name'), 'Ada Lovelace');
  assert.equal(text(page, '#status-name'), 'Available');
  assert.equal(text(page, '#backstop-state'), 'Protected: closing this tab sets you Offline.');

  // The agent's status changes elsewhere (the emulator's poll sees it): the page follows.
  const poll = page.intervals.find((i) => i.ms === 1000);
  assert.ok(poll, 'the simulated Streams polls every second');
  Object.assign(page.agent, { statusId: 'offline', statusName: 'Offline', statusType: 'OFFLINE' });
  await poll.fn();
  await until(() => text(page, '#status-name') === 'Offline', 'the new status on screen');
  assert.equal(page.document.querySelector('#status-name').dataset.type, 'offline');

  // Closing the tab: the beacon to this session's close route.
  page.listeners.get('pagehide').forEach((l) => l({ persisted: false }));
  assert.equal(page.beacons.length, 1);
  assert.equal(page.beacons[0].url, `${API}/sessions/${SESSION.sessionId}/close`);
});

test('signedInPage_should_registerWithTheAgentsIdToken_when_aValidTokenIsKept', async (t) => {
  const config = { ...LOCAL, auth: { issuer: ISSUER, clientId: 'ccp' } };
  const storage = { [SIGN_IN_KEY]: { idToken: 'ada-id-token', expiresAt: Date.now() + 3_600_000, loginHint: 'demo-ada' } };
  const page = await load(t, browser({ config, search: '?agent=demo-ada', storage }));
  await until(() => page.document.body.dataset.backstop === 'open', 'the session open');

  const register = page.requests.find((r) => r.url === `${API}/sessions`);
  assert.equal(register.init.headers.Authorization, 'Bearer ada-id-token');
  assert.equal(page.document.body.dataset.signIn, 'done');
  assert.deepEqual(page.assigned, [], 'no trip to the identity provider');
});

test('signedInPage_should_goToTheIdentityProviderFirst_withTheDemoAgentAsLoginHint_when_noTokenIsKept', async (t) => {
  const config = { ...LOCAL, auth: { issuer: ISSUER, clientId: 'ccp', scope: 'openid ccp' } };
  const page = await load(t, browser({ config, search: '?agent=demo-ada' }));
  await until(() => page.assigned.length === 1, 'the redirect to the identity provider');

  const to = new URL(page.assigned[0]);
  assert.equal(`${to.origin}${to.pathname}`, `${ISSUER}/v1/authorize`);
  assert.equal(to.searchParams.get('client_id'), 'ccp');
  assert.equal(to.searchParams.get('scope'), 'openid ccp');
  assert.equal(to.searchParams.get('login_hint'), 'demo-ada');
  assert.equal(text(page, '#backstop-state'), 'Signing in…');
  assert.equal(isHidden(page, '#console'), true, 'nothing of the CCP before the sign-in');
  assert.equal(page.requests.some((r) => r.url.startsWith(EMULATOR) || r.url.startsWith(API)), false);
});

test('signedInPage_should_sayTheSignInFailed_andStartNothing_when_theReturnFromTheProviderCannotBeCompleted', async (t) => {
  const config = { ...LOCAL, auth: { issuer: ISSUER, clientId: 'ccp' } };
  const pending = { verifier: 'v', state: 'st', nonce: 'n', redirectUri: 'https://ccp.example.com/ccp.html', returnTo: '/ccp.html?agent=demo-ada' };
  const page = await load(t, browser({ config, search: '?agent=demo-ada&code=abc&state=st', storage: { [SIGN_IN_KEY]: { pending } },
    answers: { [`${ISSUER}/.well-known/openid-configuration`]: () => { throw new TypeError('fetch failed'); } } }));
  await until(() => page.document.body.dataset.signIn === 'failed', 'the sign-in failure shown');

  assert.equal(page.document.body.dataset.backstop, 'error');
  assert.match(text(page, '#banner'), /^Sign-in failed: the identity provider at https:\/\/idp\.example\.com\/oauth2\/default cannot be reached/);
  assert.equal(text(page, '#backstop-state'), 'Not signed in: not protected.');
  assert.equal(page.requests.some((r) => r.url.startsWith(EMULATOR) || r.url.startsWith(API)), false);
});

test('signedInPage_should_sayTheSignInFailed_when_theProviderCannotBeReachedToSignIn', async (t) => {
  const config = { ...LOCAL, auth: { issuer: ISSUER, clientId: 'ccp' } };
  const page = await load(t, browser({ config, search: '?agent=demo-ada',
    answers: { [`${ISSUER}/.well-known/openid-configuration`]: () => { throw new TypeError('fetch failed'); } } }));
  await until(() => page.document.body.dataset.signIn === 'failed', 'the sign-in failure shown');

  assert.match(text(page, '#banner'), /^Sign-in failed: the identity provider at .* cannot be reached \(fetch failed\)/);
  assert.deepEqual(page.assigned, []);
  assert.equal(isHidden(page, '#console'), true);
});

test('signedInPage_should_refuseToGoOn_when_theProviderSignedTheAgentInButGaveNoUsableToken', async (t) => {
  // Back from the provider with a code (?state= of this tab's pending sign-in), but the ID token it gives expires
  // within the minute the page asks of a token: signing in again would loop, so the page says so.
  const config = { ...LOCAL, auth: { issuer: ISSUER, clientId: 'ccp' } };
  const pending = { verifier: 'v'.repeat(43), state: 'st', nonce: 'n1', redirectUri: 'https://ccp.example.com/ccp.html',
    returnTo: '/ccp.html?agent=demo-ada', loginHint: 'demo-ada' };
  const b64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const idToken = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url({ iss: ISSUER, aud: 'ccp', sub: 'idp-ada', iat: now, exp: now + 30, nonce: 'n1' })}.${b64url('sig')}`;
  const page = await load(t, browser({ config, search: '?agent=demo-ada&code=abc&state=st', storage: { [SIGN_IN_KEY]: { pending } },
    answers: { [`${ISSUER}/v1/token`]: () => Response.json({ token_type: 'Bearer', access_token: 'at', expires_in: 30, id_token: idToken }) } }));
  await until(() => page.document.body.dataset.signIn === 'failed', 'the sign-in failure shown');

  assert.match(text(page, '#banner'), /^Sign-in failed: the identity provider signed you in but gave no usable ID token\./);
  assert.deepEqual(page.assigned, [], 'no second trip to the provider');
  assert.equal(page.requests.some((r) => r.url.startsWith(API)), false);
});

/** A fake of the amazon-connect-streams global, as far as the page and the adapter use it. */
function fakeStreams() {
  const inits = [];
  let onAgent = null;
  const states = [{ name: 'Available', type: 'routable', agentStateARN: `${INSTANCE_ARN}/agent-state/available` },
    { name: 'Offline', type: 'offline', agentStateARN: `${INSTANCE_ARN}/agent-state/offline` }];
  const agent = {
    getAgentARN: () => `${INSTANCE_ARN}/agent/u-1`, getName: () => 'Grace Hopper', getState: () => states[0], getNextState: () => null,
    getContacts: () => [], getAgentStates: () => states, onStateChange() {}, onRefresh() {},
  };
  const connect = {
    AgentStateType: { OFFLINE: 'offline' },
    core: { initCCP: (container, options) => inits.push({ container, options }) },
    agent: (cb) => { onAgent = cb; },
  };
  return { connect, inits, signIn: () => onAgent(agent) };
}

test('productionPage_should_loadStreams_initTheCcpInItsFrame_andRegisterTheStreamsAgent', async (t) => {
  const config = { mode: 'production', apiBase: API, ccpUrl: 'https://demo.my.connect.aws/ccp-v2/', region: 'eu-west-2',
    auth: { issuer: ISSUER, clientId: 'ccp' } };
  const page = await load(t, browser({ config, storage: keptToken(null) }));
  await until(() => page.document.head.querySelector('script[src*="connect-streams"]'), 'the Streams script added');
  const script = page.document.head.querySelector('script[src*="connect-streams"]');
  assert.equal(script.getAttribute('src'), 'node_modules/amazon-connect-streams/release/connect-streams-min.js');
  assert.equal(text(page, '#backstop-state'), 'Starting…', 'nothing starts before Streams is loaded');
  assert.equal(isHidden(page, '#console'), true);

  const streams = fakeStreams();
  globalThis.connect = streams.connect;
  script.onload();
  await until(() => streams.inits.length === 1, 'the CCP initialised');
  assert.equal(streams.inits[0].container, page.document.querySelector('#ccp-frame'));
  assert.deepEqual(streams.inits[0].options, { ccpUrl: config.ccpUrl, region: 'eu-west-2', softphone: { allowFramedSoftphone: true } });
  assert.equal(isHidden(page, '#console'), false);

  streams.signIn();
  await until(() => page.document.body.dataset.backstop === 'open', 'the session open');
  const register = page.requests.find((r) => r.url === `${API}/sessions`);
  assert.equal(JSON.parse(register.init.body).agentArn, `${INSTANCE_ARN}/agent/u-1`);
  assert.equal(text(page, '#agent-name'), 'Grace Hopper');
  assert.equal(text(page, '#status-name'), 'Available');
  assert.equal(page.requests.some((r) => r.url.startsWith(EMULATOR)), false, 'no emulator in production');
});

test('productionPage_should_sayThePageCouldNotStart_when_streamsDoesNotLoad', async (t) => {
  const config = { mode: 'production', apiBase: API, ccpUrl: 'https://demo.my.connect.aws/ccp-v2/', region: 'eu-west-2',
    streamsUrl: '/vendor/connect-streams.js', auth: { issuer: ISSUER, clientId: 'ccp' } };
  const page = await load(t, browser({ config, storage: keptToken(null) }));
  await until(() => page.document.head.querySelector('script[src*="connect-streams"]'), 'the Streams script added');
  const script = page.document.head.querySelector('script[src*="connect-streams"]');
  assert.equal(script.getAttribute('src'), '/vendor/connect-streams.js', 'the configured Streams');

  script.onerror();
  await until(() => page.document.body.dataset.backstop === 'error', 'the error shown');
  assert.equal(text(page, '#backstop-state'),
    'The page could not start: amazon-connect-streams did not load from /vendor/connect-streams.js (run npm ci in web/)');
});

test('page_should_sayItCouldNotStart_when_itsConfigurationCannotBeRead', async (t) => {
  const page = await load(t, browser({ config: null, answers: { 'config.json': () => new Response('<html>', { status: 404 }) } }));
  await until(() => page.document.body.dataset.backstop === 'error', 'the error shown');
  assert.match(text(page, '#backstop-state'), /^The page could not start: .*JSON/);
});

test('page_should_sayItCouldNotStart_when_itsConfigurationNamesNoIdentityProvider', async (t) => {
  const { auth, ...withoutAuth } = LOCAL;
  const page = await load(t, browser({ config: withoutAuth, search: '?agent=demo-ada' }));
  await until(() => page.document.body.dataset.backstop === 'error', 'the error shown');
  assert.equal(text(page, '#backstop-state'), 'The page could not start: config.json names no identity provider (auth): '
    + 'the backstop API opens a session only for a signed-in agent');
  assert.equal(page.requests.some((r) => r.url.startsWith(API)), false, 'no register refused by the authorizer');
});
