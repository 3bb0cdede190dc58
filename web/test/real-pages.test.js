// The client in real pages (issue 32): page code that throws, a log-out and log-in through Streams, teardown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackstopCore, STATE } from '../client/core.js';
import { createStreamsAdapter } from '../client/streams-adapter.js';
import { createBackstop } from '../client/index.js';
import { streamsWithLifecycle } from './fakes/streams-lifecycle.js';

const AGENT_ARN = 'arn:aws:connect:us-east-1:123456789012:instance/i-1/agent/u-1';
const AVAILABLE = { name: 'Available', arn: 'arn:x/agent-state/avail', type: 'routable' };
const BREAK = { name: 'Break', arn: 'arn:x/agent-state/break', type: 'not_routable' };
const OFFLINE = { name: 'Offline', arn: 'arn:x/agent-state/offline', type: 'offline' };
const SESSION = { sessionId: 'S'.repeat(22), token: 'T'.repeat(43), heartbeatSeconds: 20, restore: null, otherSessions: 0 };
const getToken = async () => 'id-token';

function fakeAgent(status = AVAILABLE) {
  const agentListeners = [];
  const statusListeners = [];
  return {
    status,
    arn: AGENT_ARN,
    onAgent(listener) { agentListeners.push(listener); },
    onStatusChange(listener) { statusListeners.push(listener); },
    agentArn() { return this.arn; },
    currentStatus() { return this.status; },
    statuses: () => [AVAILABLE, BREAK, OFFLINE],
    setStatus: async () => {},
    signIn() { agentListeners.forEach((l) => l()); },
    change(next) { this.status = next; statusListeners.forEach((l) => l()); },
  };
}

/** Records every register; each answers 201 with `body`. */
function recordingFetch(body = SESSION) {
  const calls = [];
  const fn = async (url, init) => {
    calls.push({ url, body: JSON.parse(init.body) });
    return { status: 201, json: async () => ({ ...body, sessionId: `${body.sessionId.slice(0, 20)}${String(calls.length).padStart(2, '0')}` }) };
  };
  fn.calls = calls;
  return fn;
}

function recordingHeartbeat() {
  const started = [];
  const fn = (options) => {
    const handle = { options, stopped: false, updates: [], update(b) { this.updates.push(b); }, stop() { this.stopped = true; } };
    started.push(handle);
    return handle;
  };
  fn.started = started;
  return fn;
}

async function until(condition) {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(condition(), 'condition not reached');
}

function setup({ adapter = fakeAgent(), onChange, onRestore, fetch = recordingFetch(), ...rest } = {}) {
  const heartbeat = recordingHeartbeat();
  const beacons = [];
  const reported = [];
  const backstop = createBackstopCore({
    adapter, apiBase: 'https://api.example.com', fetch, startHeartbeat: heartbeat,
    sendBeacon: (url, body) => { beacons.push({ url, body: JSON.parse(body) }); return true; },
    setTimeout: (fn) => setImmediate(fn), onChange, onRestore, reportError: (error) => reported.push(error), ...rest,
  });
  backstop.start();
  return { adapter, fetch, heartbeat, beacons, reported, backstop };
}

test('onChange_should_beReportedAndChangeNothing_when_thePagesCallbackThrows', async () => {
  const rendered = [];
  const { adapter, fetch, heartbeat, reported, backstop } = setup({
    onChange: (state) => { rendered.push(state); if (state === STATE.OPEN) throw new TypeError('page render failed'); },
  });
  adapter.signIn();
  await until(() => backstop.state === STATE.OPEN);
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));

  assert.equal(fetch.calls.length, 1, 'one register: the page\'s exception is not a network error');
  assert.equal(heartbeat.started.length, 1, 'one heartbeat loop');
  assert.equal(heartbeat.started[0].stopped, false, 'and it keeps running');
  assert.deepEqual(rendered, [STATE.REGISTERING, STATE.OPEN]);
  assert.equal(reported.length, 1);
  assert.match(reported[0].message, /page render failed/);
});

test('onRestore_should_beReportedAndChangeNothing_when_thePagesCallbackThrows', async () => {
  const adapter = fakeAgent(OFFLINE);
  const outcomes = [];
  const { fetch, heartbeat, reported, backstop } = setup({
    adapter,
    fetch: recordingFetch({ ...SESSION, restore: { name: 'Gone', arn: 'arn:x/agent-state/gone' } }),
    onRestore: (result) => { outcomes.push(result.outcome); throw new Error('restore banner failed'); },
  });
  adapter.signIn();
  await until(() => outcomes.length > 0);
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));

  assert.deepEqual(outcomes, ['unknown-status']);
  assert.equal(fetch.calls.length, 1, 'one register');
  assert.equal(heartbeat.started.length, 1);
  assert.equal(backstop.state, STATE.OPEN);
  assert.equal(reported.length, 1);
});

test('onRestore_should_beReported_notAnUnhandledRejection_when_itThrowsAfterTheStatusIsSet', async () => {
  const adapter = fakeAgent(OFFLINE);
  const outcomes = [];
  const { reported } = setup({
    adapter,
    fetch: recordingFetch({ ...SESSION, restore: { name: 'Break', arn: BREAK.arn } }),
    onRestore: (result) => { outcomes.push(result.outcome); throw new Error('restore banner failed'); },
  });
  adapter.signIn();
  await until(() => reported.length === 1);
  assert.deepEqual(outcomes, ['restored']);
});

test('onChange_should_defaultToConsoleError_when_thePageGivesNoReporter', async () => {
  const logged = [];
  const original = console.error;
  console.error = (...args) => logged.push(args);
  try {
    const adapter = fakeAgent();
    const backstop = createBackstopCore({
      adapter, apiBase: '', fetch: recordingFetch(), startHeartbeat: recordingHeartbeat(), sendBeacon: () => true,
      onChange: () => { throw new Error('boom'); },
    });
    backstop.start();
    adapter.signIn();
    await until(() => backstop.state === STATE.OPEN);
  } finally {
    console.error = original;
  }
  assert.equal(logged.length, 2, 'registering and open, each reported');
  assert.match(logged[0][0], /ccp-backstop/);
  assert.equal(logged[0][1].message, 'boom');
});

/** The client on the real Streams adapter over a Streams that logs out and in: connect.core.terminate(), initCCP. */
function onStreams() {
  const connect = streamsWithLifecycle([AVAILABLE, BREAK, OFFLINE].map((s) => ({ name: s.name, type: s.type, agentStateARN: s.arn })));
  const ticks = [];
  const adapter = createStreamsAdapter(connect, { setInterval: (fn) => ticks.push(fn), clearInterval: () => {} });
  const page = setup({ adapter });
  const state = (s) => ({ name: s.name, type: s.type, agentStateARN: s.arn });
  return {
    ...page, connect,
    logIn(arn, status = AVAILABLE) {
      connect.core.initCCP();
      ticks.forEach((fn) => fn());
      connect.core.agentArrives(arn, state(status));
    },
    change(status) {
      connect.core.agentDataProvider.data.state = state(status);
      connect.core.eventBus.trigger('agent::refresh');
    },
  };
}

/** onStreams, with the agent signed in and the session open. */
async function openOnStreams() {
  const page = onStreams();
  page.logIn(AGENT_ARN);
  await until(() => page.backstop.state === STATE.OPEN);
  return { ...page, first: page.backstop.sessionId };
}

test('pagehide_should_sendTheBeacon_when_streamsWasTerminated_withTheStatusLastKnown', async () => {
  const page = await openOnStreams();
  page.change(BREAK);

  page.connect.core.terminate(); // the agent logs out; the tab stays
  page.backstop.onPageHide({ persisted: false });

  assert.equal(page.beacons.length, 1, 'the close beacon went');
  assert.deepEqual(page.beacons[0].body, { token: SESSION.token, reason: 'pagehide', status: { name: 'Break', arn: BREAK.arn } });
});

test('logInAgain_should_keepTheOpenSession_when_theSameAgentComesBack', async () => {
  const { first, ...page } = await openOnStreams();

  page.connect.core.terminate();
  page.logIn(AGENT_ARN, BREAK);
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));

  assert.equal(page.fetch.calls.length, 1, 'no second session: it would count as another CCP of the agent');
  assert.equal(page.backstop.sessionId, first);
  assert.deepEqual(page.heartbeat.started[0].updates.at(-1).status, { name: 'Break', arn: BREAK.arn }, 'heard from the new Streams');
  page.backstop.onPageHide();
  assert.deepEqual(page.beacons.map((b) => b.body.status.name), ['Break']);
});

test('logInAgain_should_closeTheLastAgentsSessionAsALogout_andRegister_when_anotherAgentSignsIn', async () => {
  const { first, ...page } = await openOnStreams();

  page.connect.core.terminate();
  page.logIn('arn:aws:connect:us-east-1:123456789012:instance/i-1/agent/u-2');
  await until(() => page.fetch.calls.length === 2 && page.backstop.state === STATE.OPEN);

  assert.equal(page.beacons.length, 1);
  assert.match(page.beacons[0].url, new RegExp(`/sessions/${first}/close$`));
  assert.equal(page.beacons[0].body.reason, 'logout');
  assert.equal(page.heartbeat.started[0].stopped, true, 'the last agent\'s heartbeat stopped');
  assert.equal(page.fetch.calls[1].body.agentArn, 'arn:aws:connect:us-east-1:123456789012:instance/i-1/agent/u-2');
});

/** A window that keeps its listeners, workers and channels, so a test can see what a client leaves behind. */
function trackedWindow() {
  const listeners = new Map();
  const workers = [];
  const channels = [];
  const beacons = [];
  const requests = [];
  let sessions = 0;
  const win = {
    addEventListener(type, fn) { listeners.set(type, [...(listeners.get(type) ?? []), fn]); },
    removeEventListener(type, fn) { listeners.set(type, (listeners.get(type) ?? []).filter((l) => l !== fn)); },
    fire(type, event = {}) { (listeners.get(type) ?? []).forEach((l) => l(event)); },
    fetch: async (url, init) => {
      requests.push({ url, init });
      sessions += 1;
      return { status: 201, json: async () => ({ ...SESSION, sessionId: `${'S'.repeat(20)}0${sessions}` }) };
    },
    navigator: { sendBeacon: (url, body) => { beacons.push({ url, body: JSON.parse(body) }); return true; } },
    BroadcastChannel: class {
      constructor(name) { this.name = name; this.closed = false; channels.push(this); }
      postMessage() {}
      close() { this.closed = true; }
    },
  };
  const count = () => [...listeners.values()].reduce((n, list) => n + list.length, 0);
  return { win, listeners, workers, channels, beacons, requests, count };
}

/** Runs `body` with a Worker that records itself in `workers`. */
async function withWorkers(workers, body) {
  const original = globalThis.Worker;
  globalThis.Worker = class {
    constructor(url) { this.url = String(url); this.terminated = false; workers.push(this); }
    postMessage() {}
    terminate() { this.terminated = true; }
  };
  try {
    return await body();
  } finally {
    globalThis.Worker = original;
  }
}

/** A page whose client (createBackstop) has its session open; then `body` runs, with the page's Worker. */
async function withOpenClient({ apiBase = 'https://api.example.com', adapter = fakeAgent() }, body) {
  const page = trackedWindow();
  await withWorkers(page.workers, async () => {
    const first = createBackstop({ adapter, apiBase, getToken, window: page.win });
    adapter.signIn();
    await until(() => first.state === STATE.OPEN);
    await body({ page, adapter, first });
  });
}

test('destroy_should_closeTheSession_andRemoveEverythingTheClientAddedToThePage', async () => {
  await withOpenClient({ adapter: { ...fakeAgent(), onContact: () => true } }, async ({ page, adapter, first: backstop }) => {
    assert.ok(page.listeners.get('beforeunload')?.length, 'guarding the live contact');

    backstop.destroy();

    assert.equal(page.count(), 0, 'no pagehide, pageshow or beforeunload listener left');
    assert.equal(page.workers.length, 2, 'the heartbeat and the tick worker');
    assert.ok(page.workers.every((w) => w.terminated), 'both workers terminated');
    assert.ok(page.channels.every((c) => c.closed), 'the BroadcastChannel closed');
    assert.equal(page.beacons.length, 1, 'the session closed: a session nobody beats for is a phantom CCP');
    assert.equal(page.beacons[0].body.reason, 'destroy');
    assert.equal(backstop.state, STATE.CLOSED);

    adapter.signIn();
    page.win.fire('pageshow', { persisted: true });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(page.requests.length, 1, 'a destroyed client registers no more');
  });
});

test('createBackstop_should_takeOverTheTabsRunningClient_andItsSession_when_createdTwice', async () => {
  await withOpenClient({}, async ({ page, adapter, first }) => {
    const listenersOfOne = page.count();
    const firstId = first.sessionId;

    const states = [];
    const second = createBackstop({ adapter, apiBase: 'https://api.example.com', getToken, window: page.win, onChange: (s, d) => states.push([s, d.reason]) });

    assert.equal(second.sessionId, firstId, 'the same session');
    assert.equal(first.sessionId, null, 'the first holds nothing now');
    assert.equal(second.state, STATE.OPEN);
    assert.deepEqual(states[0], [STATE.OPEN, 'adopted']);
    assert.equal(page.requests.length, 1, 'no second register: one tab, one session');
    assert.equal(page.beacons.length, 0, 'and no close: the agent stays as they are');
    assert.equal(page.count(), listenersOfOne, 'the first client\'s listeners are gone');
    assert.equal(page.workers.filter((w) => !w.terminated).length, 2, 'one heartbeat worker and one tick worker run');

    adapter.signIn(); // Streams reports the same agent to the second client
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(page.requests.length, 1);
    page.win.fire('pagehide', {});
    assert.equal(page.beacons.length, 1, 'the close beacon, once, from the second client');
  });
});

test('createBackstop_should_destroyTheRunningClient_when_theSecondTalksToAnotherApi', async () => {
  await withOpenClient({ apiBase: 'https://one.example.com' }, async ({ page, adapter }) => {
    const second = createBackstop({ adapter, apiBase: 'https://two.example.com', getToken, window: page.win });
    adapter.signIn();
    await until(() => second.state === STATE.OPEN);

    assert.equal(page.beacons.length, 1);
    assert.match(page.beacons[0].url, /^https:\/\/one\.example\.com\//);
    assert.equal(page.requests.at(-1).url, 'https://two.example.com/sessions');
  });
});

test('destroy_should_closeTheSessionARegisterInFlightOpens_forNobodyWouldKeepOrCloseIt', async () => {
  let answer;
  const fetch = async () => { await new Promise((resolve) => { answer = resolve; }); return { status: 201, json: async () => SESSION }; };
  const { adapter, heartbeat, beacons, backstop } = setup({ fetch });
  adapter.signIn();
  await until(() => answer !== undefined);

  backstop.destroy();
  answer();
  await until(() => beacons.length === 1);

  assert.equal(beacons[0].url, `https://api.example.com/sessions/${SESSION.sessionId}/close`);
  assert.equal(heartbeat.started.length, 0);
  assert.equal(backstop.sessionId, null);
});

test('restore_should_notBeTried_when_theAdapterCannotSetAStatus', async () => {
  const adapter = fakeAgent(OFFLINE);
  delete adapter.setStatus; // optional in StreamsAdapter: an adapter may list statuses and set none
  const outcomes = [];
  const { reported } = setup({
    adapter,
    fetch: recordingFetch({ ...SESSION, restore: { name: 'Break', arn: BREAK.arn } }),
    onRestore: (result) => outcomes.push(result.outcome),
  });
  adapter.signIn();
  await until(() => outcomes.length === 1);
  assert.deepEqual(outcomes, ['unknown-status'], 'not a TypeError taken for Streams refusing the status');
  assert.deepEqual(reported, []);
});
