// What the core tells the page in each state's detail (the view's banners and notices read it), and the edges of
// the heartbeat fallback, the leave-page guard and the tab peers. backstop.test.js covers the flows; this file
// pins the words and boundaries a change could quietly break.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackstopCore, guardLiveContacts, tabPeers, workerHeartbeat, STATE } from '../client/core.js';
import { scriptedFetch } from './fakes/scripted-fetch.js';

const AGENT_ARN = 'arn:aws:connect:us-east-1:123456789012:instance/i-1/agent/u-1';
const SESSION_ID = 'S'.repeat(22);
const registered = { status: 201, body: { sessionId: SESSION_ID, token: 'T'.repeat(43), heartbeatSeconds: 30, restore: null, otherSessions: 0 } };

function setup(responses, { getToken, startHeartbeat } = {}) {
  const statusListeners = [];
  const adapter = {
    status: { name: 'Available', arn: 'arn:x/agent-state/avail' },
    onAgent() {},
    onStatusChange(listener) { statusListeners.push(listener); },
    agentArn: () => AGENT_ARN,
    currentStatus() { return this.status; },
    change(next) { this.status = next; statusListeners.forEach((l) => l()); },
  };
  const fetch = scriptedFetch(responses);
  const calls = fetch.calls;
  const beats = [];
  const states = [];
  const backstop = createBackstopCore({
    adapter, apiBase: 'https://api.example.com', fetch, getToken,
    sendBeacon: () => true,
    startHeartbeat: startHeartbeat ?? ((options) => {
      const handle = { options, updates: [], stopped: false, update(body) { this.updates.push(body); }, stop() { this.stopped = true; } };
      beats.push(handle);
      return handle;
    }),
    setTimeout: (fn) => { fn(); return 0; },
    random: () => 0,
    onChange: (state, detail) => states.push({ state, detail }),
  });
  return { adapter, calls, beats, states, backstop };
}

test('register_should_sayWhyItRegisters_inTheRegisteringAndOpenDetails', async () => {
  const { backstop, states } = setup([registered]);
  await backstop.register();

  assert.deepEqual(states, [
    { state: STATE.REGISTERING, detail: { reason: 'agent' } },
    { state: STATE.OPEN, detail: { sessionId: SESSION_ID, restore: null, reason: 'agent', otherSessions: 0 } },
  ]);
});

test('heartbeat410_should_registerAgainAsServerClosed_and404AsSessionLost', async () => {
  for (const [status, reason] of [[410, 'server-closed'], [404, 'session-lost'], [403, 'session-lost']]) {
    const { backstop, beats, states } = setup([registered, registered]);
    await backstop.register();
    states.length = 0;
    beats[0].options.onResult(status);
    await backstop.register();

    assert.deepEqual(states.map((s) => s.state), [STATE.CLOSED, STATE.REGISTERING, STATE.OPEN], `after a ${status}`);
    assert.deepEqual(states[0].detail, { byServer: true, status });
    assert.equal(states[1].detail.reason, reason, `after a ${status}`);
    assert.equal(states[2].detail.reason, reason, `after a ${status}`);
  }
});

test('heartbeat410SessionExpired_should_registerAgainSilently_throughGetToken_andRefreshOnceWhenTheKeptTokenIsRefused', async () => {
  const asked = [];
  const getToken = async (options) => { asked.push(options); return options.refresh ? 'fresh.id.token' : 'kept.id.token'; };
  // The shift's first register; then, ten hours later, the kept ID token is refused (it ran out) and a fresh one is not.
  const { backstop, beats, states, calls } = setup([registered, { status: 401 }, { ...registered, body: { ...registered.body, sessionId: 'N'.repeat(22) } }],
    { getToken });
  await backstop.register();
  states.length = 0;
  asked.length = 0;

  beats[0].options.onResult(410, undefined, 'session_expired');
  await backstop.register();

  assert.deepEqual(states.map((s) => s.state), [STATE.REGISTERING, STATE.OPEN], 'no CLOSED: nothing for the agent to read');
  assert.equal(states[0].detail.reason, 'session-expired');
  assert.equal(states[1].detail.sessionId, 'N'.repeat(22));
  assert.deepEqual(asked, [{}, { refresh: true }], 'the kept token first, a fresh one after its 401');
  assert.deepEqual(calls.slice(-2).map((c) => c.init.headers.Authorization), ['Bearer kept.id.token', 'Bearer fresh.id.token']);
  assert.equal(beats[0].stopped, true, 'the expired session beats no more');
  assert.equal(beats.length, 2, 'the new session beats');
});

test('heartbeat410SessionClosed_should_stillSayTheServerClosedIt', async () => {
  const { backstop, beats, states } = setup([registered, registered]);
  await backstop.register();
  states.length = 0;
  beats[0].options.onResult(410, undefined, 'session_closed');
  await backstop.register();

  assert.deepEqual(states.map((s) => s.state), [STATE.CLOSED, STATE.REGISTERING, STATE.OPEN]);
  assert.equal(states[1].detail.reason, 'server-closed');
});

test('failedHeartbeat_should_sayNetworkForNoAnswer_andRefusedForAnErrorStatus', async () => {
  const { backstop, beats, states } = setup([registered]);
  await backstop.register();
  beats[0].options.onResult(0);
  beats[0].options.onResult(503);

  assert.deepEqual(states.slice(-2), [
    { state: STATE.DEGRADED, detail: { sessionId: SESSION_ID, status: 0, error: 'network' } },
    { state: STATE.DEGRADED, detail: { sessionId: SESSION_ID, status: 503, error: 'heartbeat-refused' } },
  ]);
});

test('register_should_sayItRetries_afterAServerErrorOrANetworkFailure', async () => {
  const { backstop, states } = setup([{ status: 503 }, new TypeError('fetch failed'), registered]);
  await backstop.register();

  assert.deepEqual(states.slice(1, 3), [
    { state: STATE.ERROR, detail: { status: 503, retrying: true } },
    { state: STATE.ERROR, detail: { error: 'network', message: 'TypeError: fetch failed', retrying: true } },
  ]);
  assert.equal(backstop.state, STATE.OPEN);
});

test('register_should_stopAtA400_withTheServersProblem_andAtA4xxWithoutJson', async () => {
  const refused = setup([{ status: 400, body: { error: 'bad-request', message: 'agentArn is not an agent ARN' } }]);
  assert.equal(await refused.backstop.register(), null);
  assert.deepEqual(refused.states.at(-1), { state: STATE.ERROR, detail: { status: 400, error: 'bad-request', message: 'agentArn is not an agent ARN' } });
  assert.equal(refused.calls.length, 1, 'a 400 is final: no retry');

  const noJson = setup([{ status: 422, json: async () => { throw new SyntaxError('Unexpected token <'); } }]);
  assert.equal(await noJson.backstop.register(), null);
  assert.deepEqual(noJson.states.at(-1), { state: STATE.ERROR, detail: { status: 422, error: undefined, message: undefined } });
  assert.equal(noJson.calls.length, 1);
});

test('register_should_sayWhatTheAgentMustDo_when_notSignedInOrTheSignInIsRefused', async () => {
  const signedOut = setup([], { getToken: async () => null });
  await signedOut.backstop.register();
  assert.deepEqual(signedOut.states.at(-1).detail, { status: 401, error: 'signed-out', message: 'sign in to protect this CCP' });

  const refused = setup([{ status: 401 }, { status: 401 }], { getToken: async () => 'expired' });
  await refused.backstop.register();
  assert.deepEqual(refused.states.at(-1).detail,
    { status: 401, error: 'unauthenticated', message: 'your sign-in is no longer valid: sign in again' });
});

test('register_should_sayTheSessionIsUnprotected_when_theHeartbeatCannotStart', async () => {
  const { backstop, states } = setup([registered], { startHeartbeat: () => { throw new Error('no Worker, no timers'); } });
  await backstop.register();
  assert.deepEqual(states.at(-1), { state: STATE.DEGRADED, detail: { sessionId: 'S'.repeat(22), error: 'heartbeat-failed', message: 'heartbeats cannot run in this page' } });
});

test('heartbeatFallback_should_sayBeatsRunOnPageTimers_onlyForTheCurrentSession', async () => {
  const { backstop, beats, states } = setup([registered, registered]);
  await backstop.register();
  beats[0].options.onFallback('the worker died');
  assert.deepEqual(states.at(-1), { state: STATE.OPEN,
    detail: { sessionId: SESSION_ID, heartbeat: 'page-timers', message: 'the worker died', otherSessions: 0 } });

  backstop.onPageHide({});
  const count = states.length;
  beats[0].options.onFallback('late news from a closed session');
  assert.equal(states.length, count, 'a closed session says nothing more');
});

test('heartbeat_should_reportTheOtherSessionsOnlyWhenTheCountChanges', async () => {
  const { backstop, beats, states } = setup([registered]);
  await backstop.register();
  const count = states.length;
  beats[0].options.onResult(200, 0);
  beats[0].options.onResult(200, undefined);
  assert.equal(states.length, count, 'same count, or none: no new state');
  assert.equal(backstop.otherSessions, 0);

  beats[0].options.onResult(200, 2);
  assert.deepEqual(states.at(-1), { state: STATE.OPEN, detail: { sessionId: SESSION_ID, otherSessions: 2 } });
  beats[0].options.onResult(200, undefined);
  assert.equal(backstop.otherSessions, 2, 'a beat without a count keeps the last one');
});

test('statusChange_should_touchNoHeartbeat_beforeASessionOrAfterTheClose', async () => {
  const { backstop, adapter, beats } = setup([registered]);
  backstop.start();
  adapter.change({ name: 'Lunch', arn: 'arn:x/agent-state/lunch' });
  await backstop.register();
  adapter.change({ name: 'Break', arn: 'arn:x/agent-state/break' });
  backstop.onPageHide({});
  adapter.change({ name: 'Available', arn: 'arn:x/agent-state/avail' });

  assert.deepEqual(beats[0].updates.map((u) => u.status.name), ['Break']);
});

test('stop_should_startNoHeartbeat_when_itComesWhileTheRegisterIsInFlight', async () => {
  const { backstop, beats, states } = setup([registered]);
  const registering = backstop.register();
  backstop.stop();
  await registering;
  assert.equal(beats.length, 0, 'a stopped backstop beats no more');
  assert.equal(states.at(-1).state, STATE.OPEN, 'the session is open: pagehide still closes it');
});

test('stop_should_stopTheHeartbeat', async () => {
  const { backstop, beats } = setup([registered]);
  await backstop.register();
  backstop.stop();
  assert.equal(beats[0].stopped, true);
});

function fakeTimers() {
  const pending = [];
  return {
    pending,
    setTimeout: (fn, ms) => { pending.push({ fn, ms }); return pending.length; },
    clearTimeout: () => {},
  };
}

test('workerHeartbeat_should_fallBackOnce_withTheWorkersError_andNotAfterStop', async () => {
  const workers = [];
  const create = () => {
    const w = { posted: [], terminated: 0, postMessage(m) { this.posted.push(m); }, terminate() { this.terminated += 1; } };
    workers.push(w);
    return w;
  };
  const timers = fakeTimers();
  const requests = [];
  const fetch = async (url, init) => { requests.push({ url, init }); return { status: 200, json: async () => ({ otherSessions: 0 }) }; };
  const reasons = [];
  const start = workerHeartbeat(create, { fetch, ...timers, random: () => 0 });
  const handle = start({ url: 'https://api.example.com/sessions/S/heartbeat', body: { token: 't' }, intervalMs: 30_000, onResult() {},
    onFallback: (why) => reasons.push(why) });

  let prevented = false;
  workers[0].onerror({ message: 'SyntaxError in worker', preventDefault: () => { prevented = true; } });
  workers[0].onerror({ message: 'again' });
  assert.equal(prevented, true, 'the worker error is handled, not reported to the console');
  assert.deepEqual(reasons, ["the heartbeat worker failed: SyntaxError in worker; heartbeats run on the page's timers"]);
  assert.equal(workers[0].terminated, 1);
  assert.equal(timers.pending.length, 1, 'one page beat loop');

  handle.stop();
  assert.equal(reasons.length, 1);

  const bare = [];
  const handle2 = start({ url: 'u', body: {}, intervalMs: 30_000, onResult() {}, onFallback: (why) => bare.push(why) });
  handle2.stop();
  workers[1].onerror({});
  assert.deepEqual(bare, [], 'a stopped heartbeat starts no page beats');

  const broken = workerHeartbeat(() => { throw new Error('blocked by CSP'); }, { fetch, ...fakeTimers(), random: () => 0 });
  const why = [];
  broken({ url: 'u', body: {}, intervalMs: 30_000, onResult() {}, onFallback: (w) => why.push(w) }).stop();
  assert.deepEqual(why, ["the heartbeat worker could not start (blocked by CSP); heartbeats run on the page's timers"]);
  const unnamed = [];
  workerHeartbeat(() => { throw 'no Worker'; }, { fetch, ...fakeTimers(), random: () => 0 })({ url: 'u', body: {}, intervalMs: 30_000, onResult() {},
    onFallback: (w) => unnamed.push(w) }).stop();
  assert.deepEqual(unnamed, ["the heartbeat worker could not start (no Worker); heartbeats run on the page's timers"]);
});

test('workerHeartbeat_should_abortAPageBeatAfterAThirdOfThePeriod', async () => {
  const timers = fakeTimers();
  const requests = [];
  const fetch = async (url, init) => { requests.push({ url, init }); return { status: 200, json: async () => ({}) }; };
  const originalTimeout = AbortSignal.timeout;
  const timeouts = [];
  AbortSignal.timeout = (ms) => { timeouts.push(ms); return originalTimeout.call(AbortSignal, ms); };
  try {
    const handle = workerHeartbeat(() => { throw new Error('no Worker'); }, { fetch, ...timers, random: () => 0 })(
      { url: 'https://api.example.com/sessions/S/heartbeat', body: { token: 't' }, intervalMs: 30_000, onResult() {} });
    timers.pending[0].fn();
    for (let i = 0; i < 20 && requests.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    handle.stop();
  } finally {
    AbortSignal.timeout = originalTimeout;
  }
  assert.equal(requests.length, 1);
  assert.deepEqual(timeouts, [10_000]);
});

test('guard_should_stayAttached_throughStatusChangesDuringOneLiveContact', () => {
  const added = [];
  const removed = [];
  const win = { addEventListener: (type, fn) => added.push({ type, fn }), removeEventListener: (type, fn) => removed.push({ type, fn }) };
  let live = false;
  const guard = guardLiveContacts({ onContact: () => live }, win);

  guard.update();
  assert.deepEqual(removed, [], 'nothing to remove before any contact');
  live = true;
  guard.update();
  guard.update();
  assert.equal(added.length, 1);
  assert.deepEqual(removed, [], 'still live: the guard stays');
  live = false;
  guard.update();
  assert.equal(removed.length, 1);
  assert.equal(removed[0].fn, added[0].fn);
});

test('tabPeers_should_countOnlyThisAgentsOtherTabs_answerHelloWithHere_andKeepAPeerExactlyMaxSilence', () => {
  let clock = 1_000_000;
  const sent = [];
  const channel = { postMessage: (m) => sent.push(m) };
  const peers = tabPeers({ channel, agentArn: () => AGENT_ARN, now: () => clock, setInterval: () => 0, id: 'me', maxSilenceMs: 30_000 });

  channel.onmessage({ data: { type: 'hello', id: 'other-agent-tab', agent: 'arn:x/agent/u-2' } });
  assert.equal(peers.othersOpen(), false, "another agent's tab is not a peer");
  assert.deepEqual(sent, [], 'and gets no answer');
  channel.onmessage({ data: { type: 'hello', id: 'me', agent: AGENT_ARN } });
  assert.equal(peers.othersOpen(), false, 'its own message is not a peer');

  channel.onmessage({ data: { type: 'hello', id: 'tab-2', agent: AGENT_ARN } });
  assert.deepEqual(sent, [{ type: 'here', id: 'me', agent: AGENT_ARN }]);
  clock += 30_000;
  assert.equal(peers.othersOpen(), true, 'heard exactly maxSilence ago: still open');
  clock += 1;
  assert.equal(peers.othersOpen(), false);
});

test('guard_should_leaveThePageAndTheAdapter_onStop_evenDuringALiveContact', () => {
  const listeners = new Map(); // listener -> event type
  const win = { addEventListener: (type, fn) => listeners.set(fn, type), removeEventListener: (type, fn) => listeners.delete(fn) };
  const adapterListeners = new Set();
  const follow = (fn) => { adapterListeners.add(fn); return () => adapterListeners.delete(fn); };
  let live = true;
  const guard = guardLiveContacts({ onContact: () => live, onStatusChange: follow, onAgent: follow }, win);
  guard.update();
  assert.deepEqual([...listeners.values()], ['beforeunload']);

  guard.stop();

  assert.equal(guard.guarding, false, 'no guard once stopped');
  assert.equal(listeners.size, 0, 'the beforeunload guard is gone');
  assert.equal(adapterListeners.size, 0, "the adapter's listeners are gone");
  live = false;
  guard.stop(); // twice: nothing left to remove, no error
});

test('tabPeers_should_sayBye_stopItsPings_andCloseTheChannel_onClose', () => {
  const sent = [];
  let closed = 0;
  const channel = { postMessage: (m) => sent.push(m.type), close: () => { closed += 1; } };
  const cancelled = [];
  const peers = tabPeers({ channel, agentArn: () => AGENT_ARN, setInterval: () => 42, clearInterval: (id) => cancelled.push(id), id: 'me' });

  peers.close();

  assert.deepEqual(sent, ['bye'], 'the other tabs stop counting this one at once');
  assert.deepEqual(cancelled, [42], 'a setInterval id is cleared');
  assert.equal(channel.onmessage, null);
  assert.equal(closed, 1);

  const stopped = [];
  const workerDriven = tabPeers({ channel: { postMessage() {} }, agentArn: () => AGENT_ARN, id: 'w',
    setInterval: () => ({ stop: () => stopped.push('stop') }), clearInterval: () => stopped.push('cleared') });
  workerDriven.close(); // a channel without close() (a test double, an old polyfill): no error
  assert.deepEqual(stopped, ['stop'], "workerInterval's handle is stopped, not cleared");
});
