// createBackstop, the package's one-call integration, against a fake page: what it wires and to what.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackstop, STATE } from '../client/index.js';
import { streamsWithLifecycle } from './fakes/streams-lifecycle.js';

const AGENT_ARN = 'arn:aws:connect:us-east-1:123456789012:instance/i-1/agent/u-1';
/** The signed-in agent's ID token, as the page's sign-in gives it. */
const getToken = async () => 'id-token';

class FakeWorker {
  static created = [];
  constructor(url, options) {
    this.url = String(url);
    this.options = options;
    this.posted = [];
    FakeWorker.created.push(this);
  }
  postMessage(message) { this.posted.push(message); }
  terminate() { this.terminated = true; }
}

function fakePage({ register = { status: 201, body: { sessionId: 'S'.repeat(22), token: 'T'.repeat(43), heartbeatSeconds: 20, restore: null, otherSessions: 0 } } } = {}) {
  const listeners = new Map();
  const broadcasts = [];
  const requests = [];
  const beacons = [];
  const win = {
    addEventListener(type, fn) { listeners.set(type, [...(listeners.get(type) ?? []), fn]); },
    removeEventListener() {},
    fire(type, event = {}) { (listeners.get(type) ?? []).forEach((l) => l(event)); },
    fetch: async (url, init) => { requests.push({ url, init }); return { status: register.status, json: async () => register.body }; },
    navigator: { sendBeacon: (url, body) => { beacons.push({ url, body: JSON.parse(body) }); return true; } },
    BroadcastChannel: class {
      constructor(name) { this.name = name; }
      postMessage(message) { broadcasts.push({ channel: this.name, ...message }); }
    },
  };
  return { win, broadcasts, requests, beacons };
}

function fakeAdapter() {
  const agentListeners = [];
  return {
    onAgent(listener) { agentListeners.push(listener); },
    onStatusChange() {},
    agentArn: () => AGENT_ARN,
    currentStatus: () => ({ name: 'Available', arn: 'arn:x/agent-state/avail', type: 'routable' }),
    signIn() { agentListeners.forEach((l) => l()); },
  };
}

/** Runs `body` with FakeWorker as the page's Worker (and a fresh list of the workers created). */
async function withFakeWorkers(body) {
  const original = globalThis.Worker;
  globalThis.Worker = FakeWorker;
  FakeWorker.created = [];
  try {
    return await body();
  } finally {
    globalThis.Worker = original;
  }
}

async function until(condition) {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(condition(), 'condition not reached');
}

test('createBackstop_should_registerWhenTheAgentIsKnown_beatFromItsWorker_andBeaconOnPagehide', () => withFakeWorkers(async () => {
  const { win, requests, beacons } = fakePage();
  const adapter = fakeAdapter();
  const states = [];
  const backstop = createBackstop({ adapter, apiBase: 'https://api.example.com', getToken, window: win,
    getToken: async () => 'id-token', onChange: (state) => states.push(state) });
  assert.equal(requests.length, 0, 'nothing before Streams reports the agent');

  adapter.signIn();
  await until(() => backstop.state === STATE.OPEN);
  assert.equal(requests[0].url, 'https://api.example.com/sessions');
  assert.equal(requests[0].init.headers.Authorization, 'Bearer id-token');
  const heartbeat = FakeWorker.created.find((w) => w.url.endsWith('/heartbeat-worker.js'));
  assert.ok(heartbeat, 'the heartbeat worker beside index.js');
  assert.deepEqual(heartbeat.options, { type: 'module' });
  assert.equal(heartbeat.posted[0].url, `https://api.example.com/sessions/${'S'.repeat(22)}/heartbeat`);

  win.fire('pagehide', { persisted: false });
  assert.equal(beacons.length, 1);
  assert.equal(beacons[0].url, `https://api.example.com/sessions/${'S'.repeat(22)}/close`);
  assert.equal(heartbeat.terminated, true);
  assert.deepEqual(states.slice(0, 3), [STATE.REGISTERING, STATE.OPEN, STATE.CLOSED]);
}));

test('createBackstop_should_pingTheOtherTabsFromAWorkersTimer_notThePagesThrottledOne', () => withFakeWorkers(async () => {
  const { win, broadcasts } = fakePage();
  const adapter = fakeAdapter();
  const backstop = createBackstop({ adapter, apiBase: '', getToken, window: win });
  adapter.signIn();
  await until(() => backstop.state === STATE.OPEN);
  const ticker = FakeWorker.created.find((w) => w.url.endsWith('/tick-worker.js'));
  assert.ok(ticker, 'a tick worker drives the pings');
  assert.deepEqual(ticker.posted, [{ type: 'start', ms: 10000 }]);

  const before = broadcasts.filter((b) => b.type === 'here').length;
  ticker.onmessage({ data: 'tick' });
  ticker.onmessage({ data: 'tick' });

  assert.equal(broadcasts.filter((b) => b.type === 'here').length, before + 2, 'one ping per worker tick');
  assert.ok(broadcasts.every((b) => b.channel === 'ccp-backstop' && b.agent === AGENT_ARN));
  assert.ok(broadcasts.some((b) => b.type === 'hello'), 'hello when the agent is known');
  backstop.stop();
}));

test('createBackstop_should_refuseMissingConnectOrApiBase_withAClearError', () => {
  assert.throws(() => createBackstop({ apiBase: '' }), /needs `connect`/);
  assert.throws(() => createBackstop({ adapter: fakeAdapter() }), /needs `apiBase`/);
});

// The deployed register route has a JWT authorizer: a page without getToken could only ever be refused, and would
// tell the agent "your sign-in is no longer valid" although they never signed in. Refused at once instead.
test('createBackstop_should_refuseAMissingGetToken_beforeAnyRequest', () => {
  const requests = [];
  const win = { fetch: async (...args) => { requests.push(args); return { status: 401 }; } };
  for (const getToken of [undefined, 'a-token', null]) {
    assert.throws(() => createBackstop({ adapter: fakeAdapter(), apiBase: '', getToken, window: win }),
      /needs `getToken`, async \(\{refresh\}\) => the signed-in agent's ID token/);
  }
  assert.deepEqual(requests, []);
});

test('createBackstop_should_sayByeOnPagehide_helloAgainOnlyFromTheCache_andStartTheTickWorkerAsAModule', () => withFakeWorkers(async () => {
  const { win, broadcasts } = fakePage();
  const adapter = fakeAdapter();
  const backstop = createBackstop({ adapter, apiBase: 'https://api.example.com', getToken, window: win });
  adapter.signIn();
  await until(() => backstop.state === STATE.OPEN);
  assert.deepEqual(FakeWorker.created.find((w) => w.url.endsWith('/tick-worker.js')).options, { type: 'module' });
  const hellos = () => broadcasts.filter((b) => b.type === 'hello').length;
  assert.equal(hellos(), 1);

  win.fire('pagehide', { persisted: true });
  assert.equal(broadcasts.at(-1).type, 'bye', 'the other tabs learn at once that this one left');
  win.fire('pageshow', { persisted: false });
  assert.equal(hellos(), 1, 'a first load is not a return from the cache');
  win.fire('pageshow', { persisted: true });
  assert.equal(hellos(), 2, 'back from the cache: hello again');
  backstop.stop();
}));

test('createBackstop_should_guardTheTabDuringALiveContact_unlessTold', () => withFakeWorkers(async () => {
  for (const [options, guarded] of [[{}, true], [{ guardLiveContact: false }, false]]) {
    const { win } = fakePage();
    const added = [];
    const addEventListener = win.addEventListener;
    win.addEventListener = (type, fn) => { added.push(type); addEventListener(type, fn); };
    const adapter = { ...fakeAdapter(), onContact: () => true };
    const backstop = createBackstop({ adapter, apiBase: 'https://api.example.com', getToken, window: win, ...options });
    adapter.signIn();
    assert.equal(added.includes('beforeunload'), guarded, JSON.stringify(options));
    await until(() => backstop.state === STATE.OPEN);
    backstop.stop();
  }
}));

test('createBackstop_should_startTheWorkersFromTheUrlsThePageGives_asModules', () => withFakeWorkers(async () => {
  const { win } = fakePage();
  const adapter = fakeAdapter();
  const backstop = createBackstop({ adapter, apiBase: '', getToken, window: win,
    workerUrls: { heartbeat: '/assets/heartbeat-worker.js', tick: '/assets/tick-worker.js' } });
  adapter.signIn();
  await until(() => backstop.state === STATE.OPEN);
  assert.deepEqual(FakeWorker.created.map((w) => [w.url, w.options]).sort(),
    [['/assets/heartbeat-worker.js', { type: 'module' }], ['/assets/tick-worker.js', { type: 'module' }]]);
  backstop.destroy();
}));

test('destroy_should_endTheStreamsAdapterItMade_butNeverOneThePageGave', () => withFakeWorkers(async () => {
  const states = [{ name: 'Available', type: 'routable', agentStateARN: 'arn:x/agent-state/avail' }];
  const connect = streamsWithLifecycle(states);
  const own = createBackstop({ connect, apiBase: '', getToken, window: fakePage().win, guardLiveContact: false });
  connect.core.agentArrives(AGENT_ARN, states[0]);
  const subscribed = () => [...connect.core.eventBus.subs.values()].reduce((n, list) => n + list.size, 0);
  assert.ok(subscribed() > 0);
  own.destroy();
  assert.equal(subscribed(), 0, 'the adapter createBackstop made leaves Streams with it');

  let destroyed = 0;
  const given = { ...fakeAdapter(), destroy: () => { destroyed += 1; } };
  createBackstop({ adapter: given, apiBase: '', getToken, window: fakePage().win }).destroy();
  assert.equal(destroyed, 0, "the page's own adapter is the page's to end");
}));
