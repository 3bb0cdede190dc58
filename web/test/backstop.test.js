// Unit tests of the backstop client with a fake agent, fake fetch, fake sendBeacon and a fake heartbeat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackstopCore, guardLiveContacts, tabPeers, workerHeartbeat, workerInterval, attachToPage, retryDelay, STATE, RESTORE_WAIT_MS } from '../client/core.js';
import { retryAfterFailureMs } from '../client/heartbeat-request.js';
import { scriptedFetch } from './fakes/scripted-fetch.js';

const AGENT_ARN = 'arn:aws:connect:us-east-1:123456789012:instance/i-1/agent/u-1';

function fakeAgent(status = { name: 'Available', arn: 'arn:aws:connect:us-east-1:123456789012:instance/i-1/agent-state/avail' }) {
  const agentListeners = [];
  const statusListeners = [];
  return {
    status,
    onAgent(listener) { agentListeners.push(listener); },
    onStatusChange(listener) { statusListeners.push(listener); },
    agentArn: () => AGENT_ARN,
    currentStatus() { return this.status; },
    signIn() { agentListeners.forEach((l) => l()); },
    change(next) { this.status = next; statusListeners.forEach((l) => l()); },
  };
}

function fakeHeartbeat() {
  const started = [];
  const fn = (options) => {
    const handle = { options, updates: [], stopped: false,
      update(body) { this.updates.push(body); }, stop() { this.stopped = true; } };
    started.push(handle);
    return handle;
  };
  fn.started = started;
  return fn;
}

const registered = { status: 201, body: { sessionId: 'S'.repeat(22), token: 'T'.repeat(43), heartbeatSeconds: 20, staleAfterSeconds: 75, restore: null } };
const immediately = (fn) => { fn(); return 0; };

/** Lets pending promise chains run until the condition holds (bounded: a broken client fails, not hangs). */
async function until(condition) {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(condition(), 'condition not reached');
}

function setup(responses = [registered], getToken = undefined) {
  const agent = fakeAgent();
  const fetch = scriptedFetch(responses);
  const beacons = [];
  const heartbeat = fakeHeartbeat();
  const states = [];
  const backstop = createBackstopCore({
    adapter: agent, apiBase: 'https://api.example.com', fetch,
    sendBeacon: (url, body) => { beacons.push({ url, body: JSON.parse(body) }); return true; },
    startHeartbeat: heartbeat, setTimeout: immediately, onChange: (state, detail) => states.push({ state, detail }), getToken,
  });
  return { agent, fetch, beacons, heartbeat, states, backstop };
}

test('register_should_postAgentArnAsTextPlain_when_streamsReportsTheAgent', async () => {
  const { agent, fetch, backstop, states } = setup();
  backstop.start();
  agent.signIn();
  await backstop.register();

  assert.equal(fetch.calls.length, 1);
  assert.equal(fetch.calls[0].url, 'https://api.example.com/sessions');
  assert.equal(fetch.calls[0].init.headers['Content-Type'], 'text/plain;charset=UTF-8');
  assert.equal(fetch.calls[0].body.agentArn, AGENT_ARN);
  assert.equal(fetch.calls[0].body.status.name, 'Available');
  assert.equal(backstop.state, STATE.OPEN);
  assert.deepEqual(states.map((s) => s.state), [STATE.REGISTERING, STATE.OPEN]);
});

test('heartbeat_should_startWithTokenAndInterval_when_registered', async () => {
  const { backstop, heartbeat } = setup();
  await backstop.register();

  assert.equal(heartbeat.started.length, 1);
  const { options } = heartbeat.started[0];
  assert.equal(options.url, `https://api.example.com/sessions/${'S'.repeat(22)}/heartbeat`);
  assert.equal(options.intervalMs, 20000);
  assert.equal(options.body.token, 'T'.repeat(43));
});

test('pagehide_should_sendCloseBeaconWithTokenAndStatus_when_sessionOpen', async () => {
  const { backstop, beacons, heartbeat, agent } = setup();
  backstop.start();
  await backstop.register();
  agent.change({ name: 'Break', arn: 'arn:x/agent-state/break' }); // the beacon carries the status last reported

  const queued = backstop.onPageHide({ persisted: false });

  assert.equal(queued, true);
  assert.equal(beacons.length, 1);
  assert.equal(beacons[0].url, `https://api.example.com/sessions/${'S'.repeat(22)}/close`);
  assert.deepEqual(beacons[0].body, { token: 'T'.repeat(43), reason: 'pagehide', status: { name: 'Break', arn: 'arn:x/agent-state/break' } });
  assert.equal(heartbeat.started[0].stopped, true);
  assert.equal(backstop.state, STATE.CLOSED);
});

test('pagehide_should_sendNothing_when_noSessionYet', () => {
  const { backstop, beacons } = setup();
  assert.equal(backstop.onPageHide({}), false);
  assert.equal(beacons.length, 0);
});

test('pagehide_should_sendOneBeacon_when_firedTwice', async () => {
  const { backstop, beacons } = setup();
  await backstop.register();
  backstop.onPageHide({});
  backstop.onPageHide({});
  assert.equal(beacons.length, 1);
});

test('heartbeat410_should_registerAgain_when_serverClosedTheSession', async () => {
  const second = { status: 201, body: { ...registered.body, sessionId: 'R'.repeat(22) } };
  const { backstop, heartbeat, fetch, states } = setup([registered, second]);
  await backstop.register();

  heartbeat.started[0].options.onResult(410);
  await until(() => backstop.sessionId === 'R'.repeat(22));

  assert.equal(fetch.calls.length, 2);
  assert.equal(backstop.sessionId, 'R'.repeat(22));
  assert.ok(states.some((s) => s.state === STATE.CLOSED && s.detail.byServer && s.detail.status === 410));
  assert.equal(heartbeat.started[0].stopped, true);
  assert.equal(heartbeat.started.length, 2);
});

test('heartbeat204_should_changeNothing_when_sessionAlive', async () => {
  const { backstop, heartbeat, fetch } = setup();
  await backstop.register();
  heartbeat.started[0].options.onResult(204);
  assert.equal(fetch.calls.length, 1);
  assert.equal(backstop.state, STATE.OPEN);
});

test('register_should_retry_when_networkFailsOrServerErrs', async () => {
  const { backstop, fetch } = setup([new Error('offline'), { status: 503 }, registered]);
  await backstop.register();
  assert.equal(fetch.calls.length, 3);
  assert.equal(backstop.state, STATE.OPEN);
});

test('register_should_stopWithError_when_serverRefusesTheAgent', async () => {
  const { backstop, fetch, states } = setup([{ status: 403, body: { error: 'foreign_instance', message: 'this backstop serves another Connect instance' } }]);
  const result = await backstop.register();
  assert.equal(result, null);
  assert.equal(fetch.calls.length, 1);
  assert.equal(backstop.state, STATE.ERROR);
  assert.equal(states.at(-1).detail.error, 'foreign_instance');
});

test('statusChange_should_updateHeartbeatBody_when_agentChangesStatus', async () => {
  const { backstop, agent, heartbeat } = setup();
  backstop.start();
  await backstop.register();
  agent.change({ name: 'Break', arn: 'arn:x/agent-state/break' });
  assert.deepEqual(heartbeat.started[0].updates.at(-1).status, { name: 'Break', arn: 'arn:x/agent-state/break' });
});

test('pageshow_should_registerAgain_when_restoredFromBackForwardCache', async () => {
  const second = { status: 201, body: { ...registered.body, sessionId: 'B'.repeat(22) } };
  const { backstop, fetch } = setup([registered, second]);
  await backstop.register();
  backstop.onPageHide({ persisted: true });
  backstop.onPageShow({ persisted: true });
  await until(() => backstop.sessionId === 'B'.repeat(22));
  assert.equal(fetch.calls.length, 2);
});

function fakeWindow() {
  const listeners = new Map();
  return {
    addEventListener(type, fn) { listeners.set(type, [...(listeners.get(type) ?? []), fn]); },
    removeEventListener(type, fn) { listeners.set(type, (listeners.get(type) ?? []).filter((l) => l !== fn)); },
    count(type) { return (listeners.get(type) ?? []).length; },
    fire(type) {
      const event = { defaultPrevented: false, returnValue: undefined, preventDefault() { this.defaultPrevented = true; } };
      (listeners.get(type) ?? []).forEach((l) => l(event));
      return event;
    },
  };
}

test('beforeunload_should_askOnlyWhileAContactIsLive', () => {
  const agent = fakeAgent();
  let onContact = false;
  agent.onContact = () => onContact;
  const win = fakeWindow();
  const guard = guardLiveContacts(agent, win);

  guard.update();
  assert.equal(win.count('beforeunload'), 0);
  assert.equal(win.fire('beforeunload').defaultPrevented, false);

  onContact = true;
  agent.change(agent.status);
  assert.equal(win.count('beforeunload'), 1);
  const asked = win.fire('beforeunload');
  assert.equal(asked.defaultPrevented, true);
  assert.ok(asked.returnValue, 'a non-empty returnValue for older browsers');

  onContact = false;
  agent.change(agent.status);
  assert.equal(win.count('beforeunload'), 0, 'no listener once the contact ended (keeps the page bfcache-eligible)');
});

const OFFLINE = { name: 'Offline', arn: 'arn:x/agent-state/offline', type: 'offline' };
const AVAILABLE = { name: 'Available', arn: 'arn:x/agent-state/avail', type: 'routable' };
const BREAK = { name: 'Break', arn: 'arn:x/agent-state/break', type: 'not_routable' };

/** A backstop whose register answers `restore`, on an agent whose status list and setStatus are recorded. */
function restoreSetup(current, restore, { timers = [] } = {}) {
  const agent = fakeAgent(current);
  agent.statuses = () => [AVAILABLE, BREAK, OFFLINE];
  agent.set = [];
  agent.setStatus = async (status) => { agent.set.push(status.name); agent.change(status); };
  const outcomes = [];
  const backstop = createBackstopCore({
    adapter: agent, apiBase: '', fetch: scriptedFetch([{ status: 201, body: { ...registered.body, restore } }]),
    sendBeacon: () => true, startHeartbeat: fakeHeartbeat(),
    setTimeout: (fn, ms) => { timers.push({ fn, ms }); return timers.length; },
    onRestore: (outcome) => outcomes.push(outcome.outcome),
  });
  backstop.start();
  return { agent, outcomes, backstop, timers };
}

test('restore_should_setTheStatusBack_when_serverOffersItAndAgentIsOffline', async () => {
  const { agent, outcomes, backstop } = restoreSetup(OFFLINE, { name: 'Break', arn: BREAK.arn });
  await backstop.register();
  await until(() => outcomes.length === 1);
  assert.deepEqual(agent.set, ['Break']);
  assert.deepEqual(outcomes, ['restored']);
});

test('restore_should_waitForTheClosesOffline_when_agentIsNotOfflineYet', async () => {
  const { agent, outcomes, backstop, timers } = restoreSetup(AVAILABLE, { name: 'Available', arn: AVAILABLE.arn });
  await backstop.register();
  assert.deepEqual(agent.set, [], 'nothing set while the agent is still Available');
  assert.equal(timers.at(-1).ms, 15000);

  agent.change(OFFLINE); // the closed tab's PutUserStatus lands after the new page registered
  await until(() => outcomes.length === 1);
  assert.deepEqual(agent.set, ['Available']);
  assert.deepEqual(outcomes, ['restored']);
});

test('restore_should_leaveTheStatusAlone_when_agentNeverShowsOfflineWithinTheWait', async () => {
  const { agent, outcomes, backstop, timers } = restoreSetup(BREAK, { name: 'Available', arn: AVAILABLE.arn });
  await backstop.register();
  timers.at(-1).fn();
  agent.change(OFFLINE); // too late: an Offline after the wait is someone's choice
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(agent.set, []);
  assert.deepEqual(outcomes, ['not-offline']);
});

test('restore_should_doNothing_when_theStatusNoLongerExistsOrIsOffline', async () => {
  for (const restore of [{ name: 'Lunch', arn: 'arn:x/agent-state/gone' }, { name: 'Offline', arn: OFFLINE.arn }]) {
    const { agent, outcomes, backstop } = restoreSetup(OFFLINE, restore);
    await backstop.register();
    assert.deepEqual(agent.set, []);
    assert.deepEqual(outcomes, ['unknown-status']);
  }
});

// A status recreated (a new ARN, the same name) between the close and the reload is still the agent's; an ARN that
// matches wins over a name that matches another status.
test('restore_should_findTheStatusByName_when_itsArnIsGone_butByArnFirst', async () => {
  const { agent, outcomes, backstop } = restoreSetup(OFFLINE, { name: 'Break', arn: 'arn:x/agent-state/break-before-the-edit' });
  await backstop.register();
  await until(() => outcomes.length === 1);
  assert.deepEqual(agent.set, ['Break']);
  assert.deepEqual(outcomes, ['restored']);

  const byArn = restoreSetup(OFFLINE, { name: 'Available', arn: BREAK.arn }); // renamed since: the ARN says which
  await byArn.backstop.register();
  await until(() => byArn.outcomes.length === 1);
  assert.deepEqual(byArn.agent.set, ['Break']);
});

test('pagehide_should_leaveOfflineToTheBeacon_while_theServerAnswers_andTryStreamsOnlyWhenItDoesNot', async () => {
  for (const [failing, othersOpen, expected] of [[false, false, 0], [true, false, 1], [true, true, 0]]) {
    const agent = fakeAgent();
    let seeds = 0;
    agent.setOfflineBestEffort = () => { seeds += 1; throw new Error('the CCP frame is gone'); };
    const beacons = [];
    const heartbeat = fakeHeartbeat();
    const backstop = createBackstopCore({
      adapter: agent, fetch: scriptedFetch([registered]), startHeartbeat: heartbeat, setTimeout: immediately,
      sendBeacon: (url, body) => { beacons.push(body); return true; }, peers: { othersOpen: () => othersOpen },
    });
    await backstop.register();
    if (failing) heartbeat.started[0].options.onResult(503);
    backstop.onPageHide({});
    assert.equal(seeds, expected, `heartbeats failing=${failing}, another tab=${othersOpen}`);
    assert.equal(beacons.length, 1, 'the beacon goes whatever the seed recipe does');
  }
});

function fakeChannelHub() {
  const channels = [];
  return {
    channel() {
      const c = { onmessage: null, postMessage(data) { channels.filter((o) => o !== c).forEach((o) => o.onmessage?.({ data })); } };
      channels.push(c);
      return c;
    },
  };
}

test('tabPeers_should_seeTheOtherTabOfTheSameAgent_until_itSaysByeOrFallsSilent', () => {
  const hub = fakeChannelHub();
  let clock = 0;
  const common = { now: () => clock, setInterval: () => 0, maxSilenceMs: 30000 };
  const a = tabPeers({ ...common, channel: hub.channel(), agentArn: () => AGENT_ARN, id: 'a' });
  const other = tabPeers({ ...common, channel: hub.channel(), agentArn: () => `${AGENT_ARN}-other`, id: 'c' });

  a.hello();
  other.hello();
  assert.equal(a.othersOpen(), false, 'only another agent\'s tab is open');
  const b = tabPeers({ ...common, channel: hub.channel(), agentArn: () => AGENT_ARN, id: 'b' });
  b.hello();
  assert.equal(a.othersOpen(), true);
  assert.equal(b.othersOpen(), true, 'a answered b\'s hello');
  assert.equal(other.othersOpen(), false, 'another agent\'s tabs do not count');

  clock = 31000;
  assert.equal(a.othersOpen(), false, 'a crashed tab falls silent');
  b.hello();
  b.bye();
  assert.equal(a.othersOpen(), false);
});

test('register_should_sendTheSignedInAgentsTokenAsBearer_andNeverOnHeartbeatOrClose', async () => {
  const { fetch, backstop, heartbeat, beacons } = setup([registered], async () => 'eyJ.agent.token');

  await backstop.register();
  backstop.onPageHide();

  assert.equal(fetch.calls[0].init.headers.Authorization, 'Bearer eyJ.agent.token');
  assert.equal(JSON.stringify(heartbeat.started[0].options).includes('eyJ.agent.token'), false);
  assert.equal(JSON.stringify(beacons).includes('eyJ.agent.token'), false);
});

test('register_should_sendNothingAndSaySignIn_when_theAgentIsNotSignedIn', async () => {
  const { fetch, backstop, states } = setup([registered], async () => null);

  assert.equal(await backstop.register(), null);

  assert.equal(fetch.calls.length, 0);
  assert.equal(states.at(-1).state, STATE.ERROR);
  assert.equal(states.at(-1).detail.error, 'signed-out');
});

/** A token source that hands out the kept token, or one issued anew when asked to refresh (null: it cannot). */
function tokenSource(fresh = 'fresh-token') {
  const asked = [];
  const fn = async (options) => { asked.push(options); return options?.refresh ? fresh : 'kept-token'; };
  fn.asked = asked;
  return fn;
}

test('register_should_retryA401OnceWithARefreshedToken_beforeAskingToSignInAgain', async () => {
  const getToken = tokenSource();
  const { fetch, backstop, states } = setup([{ status: 401, body: { message: 'Unauthorized' } }, registered], getToken);

  const session = await backstop.register();

  assert.equal(session.id, 'S'.repeat(22));
  assert.deepEqual(fetch.calls.map((c) => c.init.headers.Authorization), ['Bearer kept-token', 'Bearer fresh-token']);
  assert.deepEqual(getToken.asked, [{}, { refresh: true }]);
  assert.equal(states.some((s) => s.detail?.error === 'unauthenticated'), false, 'the agent was never asked to sign in');
  assert.equal(states.at(-1).state, STATE.OPEN);
});

test('register_should_askToSignInAgain_when_theRefreshedTokenIsRefusedToo', async () => {
  const getToken = tokenSource();
  const { fetch, backstop, states } = setup([{ status: 401 }, { status: 401 }, registered], getToken);

  assert.equal(await backstop.register(), null);

  assert.equal(fetch.calls.length, 2, 'one retry, then the agent: a wrong audience or a clock far off needs them');
  assert.deepEqual(states.at(-1).detail, { status: 401, error: 'unauthenticated', message: 'your sign-in is no longer valid: sign in again' });
});

test('register_should_askToSignInAgain_when_noTokenCanBeIssuedAnew', async () => {
  const getToken = tokenSource(null); // no refresh token: only the agent can sign in again
  const { fetch, backstop, states } = setup([{ status: 401 }, registered], getToken);

  assert.equal(await backstop.register(), null);

  assert.equal(fetch.calls.length, 1);
  assert.deepEqual(getToken.asked, [{}, { refresh: true }]);
  assert.equal(states.at(-1).detail.error, 'unauthenticated');
});

test('register_should_retryA401OnceMore_onTheNextRegister', async () => {
  const getToken = tokenSource();
  const { fetch, backstop } = setup([{ status: 401 }, { status: 401 }, { status: 401 }, registered], getToken);

  assert.equal(await backstop.register(), null);
  const session = await backstop.register(); // the agent signed in again

  assert.equal(session.id, 'S'.repeat(22));
  assert.equal(fetch.calls.length, 4);
});

test('register_should_retry_when_theIdentityCannotBeCheckedYet', async () => {
  const { fetch, backstop } = setup([{ status: 503, body: { error: 'identity_unverified' } }, registered], async () => 't');

  const session = await backstop.register();

  assert.equal(fetch.calls.length, 2);
  assert.equal(session.id, 'S'.repeat(22));
});

test('register_should_stopWithTheServersCode_when_theTokenIsAnotherAgents', async () => {
  const { fetch, backstop, states } = setup([{ status: 403, body: { error: 'identity_mismatch', message: 'm' } }], async () => 't');

  assert.equal(await backstop.register(), null);

  assert.equal(fetch.calls.length, 1);
  assert.equal(states.at(-1).detail.error, 'identity_mismatch');
});

// What the review's mutants showed the tests did not pin down (issue: mutation testing).

test('start_should_registerByItself_when_streamsReportsTheAgent', async () => {
  const { agent, fetch, backstop } = setup();
  backstop.start();

  agent.signIn(); // no register() call from the test: start() must have wired it

  await until(() => backstop.state === STATE.OPEN);
  assert.equal(fetch.calls.length, 1);
  assert.equal(fetch.calls[0].body.agentArn, AGENT_ARN);
});

test('register_should_backOffOneTwoFiveTenThirtySeconds_andStayAtThirty', async () => {
  const delays = [];
  const agent = fakeAgent();
  const fetch = scriptedFetch([{ status: 500 }, { status: 502 }, { status: 503 }, new Error('offline'), { status: 500 }, { status: 500 }, registered]);
  const backstop = createBackstopCore({
    adapter: agent, apiBase: '', fetch, sendBeacon: () => true, startHeartbeat: fakeHeartbeat(),
    setTimeout: (fn, ms) => { delays.push(ms); fn(); return 0; }, random: () => 1,
  });

  await backstop.register();

  assert.deepEqual(delays, [1000, 2000, 5000, 10000, 30000, 30000]);
  assert.equal(backstop.state, STATE.OPEN);
});

test('register_should_startTheBackoffAgain_when_aRegisterSucceededInBetween', async () => {
  const delays = [];
  const fetch = scriptedFetch([{ status: 500 }, registered, { status: 500 }, registered]);
  const backstop = createBackstopCore({
    adapter: fakeAgent(), apiBase: '', fetch, sendBeacon: () => true, startHeartbeat: fakeHeartbeat(),
    setTimeout: (fn, ms) => { delays.push(ms); fn(); return 0; }, random: () => 1,
  });

  await backstop.register();
  await backstop.register('again');

  assert.deepEqual(delays, [1000, 1000]);
});

test('register_should_retry_when_theServerSays429', async () => {
  const { backstop, fetch } = setup([{ status: 429, body: { error: 'too_many_sessions' } }, registered]);

  await backstop.register();

  assert.equal(fetch.calls.length, 2);
  assert.equal(backstop.state, STATE.OPEN);
});

test('heartbeat404And403_should_registerAgain_likeA410', async () => {
  for (const status of [404, 403]) {
    const second = { status: 201, body: { ...registered.body, sessionId: 'N'.repeat(22) } };
    const { backstop, heartbeat, fetch, states } = setup([registered, second]);
    await backstop.register();

    heartbeat.started[0].options.onResult(status);

    await until(() => backstop.sessionId === 'N'.repeat(22));
    assert.equal(fetch.calls.length, 2, `after ${status}`);
    assert.ok(states.some((s) => s.state === STATE.CLOSED && s.detail.byServer && s.detail.status === status));
  }
});

test('heartbeatResult_should_beIgnored_when_itIsForASessionNoLongerCurrent', async () => {
  const second = { status: 201, body: { ...registered.body, sessionId: 'N'.repeat(22) } };
  const { backstop, heartbeat, fetch } = setup([registered, second]);
  await backstop.register();
  heartbeat.started[0].options.onResult(410);
  await until(() => backstop.sessionId === 'N'.repeat(22));

  heartbeat.started[0].options.onResult(410); // a late answer of the old session's worker

  assert.equal(fetch.calls.length, 2);
  assert.equal(backstop.sessionId, 'N'.repeat(22));
});

test('pageshow_should_notRegister_when_thePageWasNotRestoredFromTheCache', async () => {
  const { backstop, fetch } = setup([registered, registered]);
  await backstop.register();
  backstop.onPageHide({});

  backstop.onPageShow({ persisted: false }); // a first load: the agent is not known yet

  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(fetch.calls.length, 1);
});

test('pageshow_should_notRegister_when_theBackstopWasStopped', async () => {
  const { backstop, fetch } = setup([registered, registered]);
  await backstop.register();
  backstop.onPageHide({ persisted: true });
  backstop.stop();

  backstop.onPageShow({ persisted: true });

  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(fetch.calls.length, 1);
});

test('restore_should_sayFailed_when_streamsRefusesTheStatus', async () => {
  const { agent, outcomes, backstop } = restoreSetup(OFFLINE, { name: 'Break', arn: BREAK.arn });
  agent.setStatus = async () => { throw new Error('Streams: invalid state'); };

  await backstop.register();

  await until(() => outcomes.length === 1);
  assert.deepEqual(outcomes, ['failed']);
});

test('restore_should_waitExactlyTheRestoreWindow', async () => {
  const timers = [];
  const { backstop } = restoreSetup(AVAILABLE, { name: 'Available', arn: AVAILABLE.arn }, { timers });
  await backstop.register();
  assert.equal(timers.at(-1).ms, RESTORE_WAIT_MS);
  assert.equal(RESTORE_WAIT_MS, 15000);
});

test('pagehide_should_stopTheHeartbeat_andAnswerWhetherTheBeaconWasQueued', async () => {
  const agent = fakeAgent();
  const heartbeat = fakeHeartbeat();
  const backstop = createBackstopCore({
    adapter: agent, apiBase: 'https://api.example.com', fetch: scriptedFetch([registered]), startHeartbeat: heartbeat,
    setTimeout: immediately, sendBeacon: () => false,
  });
  await backstop.register();

  assert.equal(backstop.onPageHide({}), false);

  assert.equal(heartbeat.started[0].stopped, true);
  assert.equal(backstop.sessionId, null);
  assert.equal(backstop.state, STATE.CLOSED);
});

test('close_should_postToTheSessionsCloseUrl_withReasonPagehide', async () => {
  const { backstop, beacons } = setup();
  await backstop.register();

  backstop.onPageHide({});

  assert.equal(beacons[0].url, `https://api.example.com/sessions/${'S'.repeat(22)}/close`);
  assert.equal(beacons[0].body.reason, 'pagehide');
  assert.equal(beacons[0].body.token, 'T'.repeat(43));
});

test('heartbeat_should_targetTheSessionsHeartbeatUrl_everyHeartbeatSeconds', async () => {
  const { backstop, heartbeat } = setup();
  await backstop.register();

  const { options } = heartbeat.started[0];
  assert.equal(options.url, `https://api.example.com/sessions/${'S'.repeat(22)}/heartbeat`);
  assert.equal(options.intervalMs, 20000);
  assert.deepEqual(options.body, { token: 'T'.repeat(43), status: { name: 'Available', arn: 'arn:aws:connect:us-east-1:123456789012:instance/i-1/agent-state/avail' } });
});

test('register_should_sendNoStatus_when_streamsShowsASystemStateWithoutArn', async () => {
  const { agent, fetch, backstop } = setup();
  agent.status = { name: 'AfterCallWork', arn: null, type: 'system' };

  await backstop.register();

  assert.equal(fetch.calls[0].body.status, undefined, 'never {name, arn: null}: the server would keep a status no reload can restore');
  assert.equal(fetch.calls[0].init.credentials, 'omit');
  assert.equal(fetch.calls[0].init.method, 'POST');
});

test('heartbeatAndClose_should_carryTheStatusTheAgentChose_behindAfterCallWork', async () => {
  const { agent, fetch, heartbeat, beacons, backstop } = setup();
  const lunch = { name: 'Lunch', arn: 'arn:aws:connect:us-east-1:123456789012:instance/i-1/agent-state/lunch', type: 'not_routable' };
  agent.status = { name: 'AfterCallWork', arn: null, type: 'system' };
  agent.chosenStatus = () => lunch;
  backstop.start();

  await backstop.register();
  backstop.onPageHide();

  assert.deepEqual(fetch.calls[0].body.status, { name: 'Lunch', arn: lunch.arn });
  assert.deepEqual(heartbeat.started[0].options.body.status, { name: 'Lunch', arn: lunch.arn });
  assert.deepEqual(beacons[0].body.status, { name: 'Lunch', arn: lunch.arn });
});

test('registerRetries_should_spreadOverHalfToAllOfEachStep_soAgentsDoNotRetryInStep', async () => {
  const run = async (random) => {
    const delays = [];
    const backstop = createBackstopCore({
      adapter: fakeAgent(), apiBase: '', fetch: scriptedFetch([{ status: 503 }, { status: 503 }, { status: 503 }, registered]),
      sendBeacon: () => true, startHeartbeat: fakeHeartbeat(), random,
      setTimeout: (fn, ms) => { delays.push(ms); fn(); return 0; },
    });
    await backstop.register();
    return delays;
  };

  assert.deepEqual(await run(() => 0), [500, 1000, 2500]);
  assert.deepEqual(await run(() => 0.5), [750, 1500, 3750]);
  assert.deepEqual(await run(() => 0.999), [1000, 1999, 4998]);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map((attempt) => retryDelay(attempt, () => 0)), [500, 1000, 2500, 5000, 15000, 15000, 15000]);
});

test('register_should_returnTheSameRegistration_when_calledAgainWhileInFlight', async () => {
  const { backstop, fetch } = setup();

  const [first, second] = await Promise.all([backstop.register(), backstop.register()]);

  assert.equal(fetch.calls.length, 1);
  assert.equal(first, second);
});

/** A Worker stand-in recording what the page posts to it. */
class FakeWorker {
  static created = [];
  constructor(url, options) {
    this.url = url;
    this.options = options;
    this.posted = [];
    this.terminated = false;
    FakeWorker.created.push(this);
  }
  postMessage(message) { this.posted.push(message); }
  terminate() { this.terminated = true; }
}

test('workerHeartbeat_should_startAModuleWorker_relayResults_andTerminateItOnStop', () => {
  const original = globalThis.Worker;
  globalThis.Worker = FakeWorker;
  try {
    FakeWorker.created = [];
    const results = [];
    const handle = workerHeartbeat('https://ccp.example.com/js/heartbeat-worker.js')({
      url: 'https://api/sessions/S/heartbeat', body: { token: 't' }, intervalMs: 20000, onResult: (s) => results.push(s),
    });
    const worker = FakeWorker.created[0];
    assert.equal(worker.url, 'https://ccp.example.com/js/heartbeat-worker.js');
    assert.deepEqual(worker.options, { type: 'module' });
    assert.deepEqual(worker.posted[0], { type: 'start', url: 'https://api/sessions/S/heartbeat', body: { token: 't' }, intervalMs: 20000 });

    worker.onmessage({ data: { type: 'result', status: 204 } });
    worker.onmessage({ data: { type: 'other', status: 500 } });
    worker.onmessage({ data: null });
    assert.deepEqual(results, [204]);

    handle.update({ token: 't', status: { name: 'Break' } });
    assert.deepEqual(worker.posted[1], { type: 'update', body: { token: 't', status: { name: 'Break' } } });

    handle.stop();
    assert.deepEqual(worker.posted[2], { type: 'stop' });
    assert.equal(worker.terminated, true);
  } finally {
    globalThis.Worker = original;
  }
});

test('attachToPage_should_sendTheBeaconOnPagehide_andRegisterOnAPersistedPageshow', () => {
  const win = fakeWindow();
  const seen = [];
  attachToPage({ onPageHide: (e) => seen.push(['hide', e.persisted]), onPageShow: (e) => seen.push(['show', e.persisted]) }, win);

  const listeners = { pagehide: win.count('pagehide'), pageshow: win.count('pageshow') };
  win.fire('pagehide');
  win.fire('pageshow');

  assert.deepEqual(listeners, { pagehide: 1, pageshow: 1 });
  assert.deepEqual(seen.map(([what]) => what), ['hide', 'show']);
});

// --- The server's count of the agent's other sessions, failing heartbeats, worker failure, agent's choice. ---

test('pagehide_should_neverSetOfflineFromThePage_while_theServerCountsAnotherSessionOfTheAgent', async () => {
  // Another browser or device: no BroadcastChannel reaches it, only the server knows. Even with heartbeats
  // failing (the one case the page may try Streams' Offline), its last count keeps the page's hands off.
  const { agent, heartbeat, beacons, backstop } = setup([{ status: 201, body: { ...registered.body, otherSessions: 1 } }, registered]);
  let seeds = 0;
  agent.setOfflineBestEffort = () => { seeds += 1; };
  await backstop.register();
  assert.equal(backstop.otherSessions, 1, 'learnt from the register answer');
  heartbeat.started[0].options.onResult(0);

  backstop.onPageHide();
  assert.equal(seeds, 0, 'no client-side Offline while another CCP of the agent is open');
  assert.equal(beacons.length, 1, 'the beacon still goes: the server decides');

  // The other CCP closed meanwhile: a heartbeat says so; with the server unreachable again, the page may try.
  await backstop.register();
  heartbeat.started.at(-1).options.onResult(200, 0);
  assert.equal(backstop.otherSessions, 0);
  heartbeat.started.at(-1).options.onResult(0);
  backstop.onPageHide();
  assert.equal(seeds, 1);
});

test('heartbeat_should_learnOfASessionOpenedElsewhere_andSayItInTheState', async () => {
  const { heartbeat, states, backstop } = setup();
  await backstop.register();
  assert.equal(backstop.otherSessions, 0);

  heartbeat.started[0].options.onResult(200, 2);
  heartbeat.started[0].options.onResult(200, 2);

  assert.equal(backstop.otherSessions, 2);
  const opens = states.filter((s) => s.state === STATE.OPEN);
  assert.equal(opens.length, 2, 'said once when the count changed, not at every beat');
  assert.equal(opens.at(-1).detail.otherSessions, 2);
});

test('failingHeartbeats_should_turnTheStateDegraded_andBackToOpenWhenABeatLands', async () => {
  for (const status of [0, 500, 503, 429, 401]) {
    const { heartbeat, states, fetch, backstop } = setup();
    await backstop.register();
    const beat = heartbeat.started[0].options.onResult;

    beat(status);
    assert.equal(backstop.state, STATE.DEGRADED, `status ${status} must not leave the page saying Protected`);
    assert.equal(states.at(-1).detail.status, status);
    beat(status);
    assert.equal(fetch.calls.length, 1, 'a failing beat is no reason to register again');

    beat(200, 0);
    assert.equal(backstop.state, STATE.OPEN);
    assert.equal(states.at(-1).detail.recovered, true);
  }
});

test('register_should_openOneSessionOnly_when_theHeartbeatCannotStart', async () => {
  const fetch = scriptedFetch([registered, registered, registered]);
  const states = [];
  const backstop = createBackstopCore({
    adapter: fakeAgent(), apiBase: '', fetch, sendBeacon: () => true, setTimeout: immediately,
    startHeartbeat: () => { throw new Error('Worker is not defined'); },
    onChange: (state, detail) => states.push({ state, detail }),
  });

  const session = await backstop.register();

  assert.equal(fetch.calls.length, 1, 'never a second session that would leave the first open');
  assert.equal(session.id, 'S'.repeat(22));
  assert.equal(backstop.state, STATE.DEGRADED);
  assert.equal(states.at(-1).detail.error, 'heartbeat-failed');
});

test('restore_should_giveWay_when_theAgentChoosesAStatusDuringTheWait_evenOffline', async () => {
  const { agent, outcomes, backstop } = restoreSetup(AVAILABLE, { name: 'Available', arn: AVAILABLE.arn });
  const choices = [];
  agent.onAgentChoice = (listener) => choices.push(listener);
  await backstop.register();

  choices.forEach((listener) => listener(OFFLINE)); // the agent picks Offline in the new page
  agent.change(OFFLINE);
  await new Promise((resolve) => setImmediate(resolve));

  assert.deepEqual(agent.set, [], 'the agent\'s Offline is not taken for the close\'s');
  assert.deepEqual(outcomes, ['not-offline']);
});

class FailingWorker extends FakeWorker {
  postMessage(message) {
    super.postMessage(message);
    if (message.type === 'start') this.onerror?.({ message: 'blocked by Content-Security-Policy', preventDefault() {} });
  }
}

test('workerHeartbeat_should_beatFromThePagesTimers_when_theWorkerFailsOrCannotStart', async () => {
  for (const create of [() => new FailingWorker('w'), () => { throw new Error('Worker is not defined'); }]) {
    const timers = [];
    const requests = [];
    const results = [];
    const fallbacks = [];
    let status = 200;
    const fetch = async (url, init) => { requests.push({ url, init }); return { status, json: async () => ({ otherSessions: 1 }) }; };
    const handle = workerHeartbeat(create, { fetch, setTimeout: (fn, ms) => { timers.push({ fn, ms }); return timers.length; },
      clearTimeout: (id) => timers.push({ cleared: id }), random: () => 0.5 })({
      url: 'https://api/sessions/S/heartbeat', body: { token: 't' }, intervalMs: 30000,
      onResult: (code, others) => results.push([code, others]), onFallback: (why) => fallbacks.push(why),
    });

    assert.equal(timers.length, 1);
    assert.equal(timers[0].ms, 30000);
    assert.equal(fallbacks.length, 1);
    handle.update({ token: 't', status: { name: 'Lunch' } });
    await timers[0].fn();
    assert.equal(requests[0].init.body, '{"token":"t","status":{"name":"Lunch"}}');
    assert.equal(requests[0].init.keepalive, true);
    assert.equal(requests[0].init.headers['Content-Type'], 'text/plain;charset=UTF-8');
    assert.deepEqual(results, [[200, 1]]);
    assert.equal(timers[1].ms, 30000, 'after a beat that landed: the full period');

    status = 503;
    await timers[1].fn();
    assert.equal(timers[2].ms, 10000, 'after a failed beat: a third of the period (jitter 0.5 -> exactly a third)');

    handle.stop();
    assert.deepEqual(timers.at(-1), { cleared: 3 });
  }
});

test('retryAfterFailureMs_should_stayBetweenAQuarterAndTwoFifthsOfThePeriod', () => {
  assert.equal(retryAfterFailureMs(30000, () => 0), 8000, 'above the 7.5 s the server refuses as too frequent');
  assert.equal(retryAfterFailureMs(30000, () => 1), 12000);
  assert.ok(retryAfterFailureMs(20000, () => 0) > 20000 / 4);
});

test('workerInterval_should_tickFromTheWorker_andFallBackToThePagesTimer', () => {
  FakeWorker.created = [];
  const ticks = [];
  const every = workerInterval(() => new FakeWorker('tick'), () => { throw new Error('page timer used'); });
  every(() => ticks.push('tick'), 10000);
  const worker = FakeWorker.created[0];
  assert.deepEqual(worker.posted, [{ type: 'start', ms: 10000 }]);
  worker.onmessage({ data: 'tick' });
  worker.onmessage({ data: 'tick' });
  assert.equal(ticks.length, 2);

  const fallback = [];
  workerInterval(() => { throw new Error('no Worker'); }, (fn, ms) => fallback.push(ms))(() => {}, 10000);
  assert.deepEqual(fallback, [10000]);
});

// On pagehide nothing the client does may come before the beacon: every step in front of it lengthens the close
// (BENCH close, docs/benchmarks.md); stopping the heartbeat worker comes after.
test('pagehide_should_sendTheBeacon_beforeStoppingTheHeartbeat', async () => {
  const agent = fakeAgent();
  const order = [];
  const startHeartbeat = () => ({ update() {}, stop() { order.push('heartbeat stopped'); } });
  const backstop = createBackstopCore({
    adapter: agent, apiBase: 'https://api.example.com', fetch: scriptedFetch([registered]), startHeartbeat,
    setTimeout: immediately, sendBeacon: () => { order.push('beacon'); return true; },
  });
  await backstop.register();

  backstop.onPageHide({});

  assert.deepEqual(order, ['beacon', 'heartbeat stopped']);
});
