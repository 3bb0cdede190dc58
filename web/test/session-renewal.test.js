// The session's renewal ahead of its end (MAX_SESSION_HOURS): the page registers the next session with a fresh
// sign-in while the old one lives, moves its beats to it and closes the old one; when it cannot, the old one goes
// on beating, the agent is told to sign in again, and nothing turns to ERROR before the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackstopCore, renewAt, RENEW_LEAD_MS, STATE } from '../client/core.js';
import { scriptedFetch } from './fakes/scripted-fetch.js';

const AGENT_ARN = 'arn:aws:connect:us-east-1:123456789012:instance/i-1/agent/u-1';
const START = Date.parse('2026-12-03T08:00:00Z');
const HOUR = 3600 * 1000;
const MINUTE = 60 * 1000;
const END = '2026-12-03T17:40:00Z'; // the first session's end: 9 h 40 min after its register
const OLD = 'O'.repeat(22);
const NEW = 'N'.repeat(22);

const answer = (sessionId, expiresAt, extra = {}) => ({ status: 201,
  body: { sessionId, token: sessionId.toLowerCase().repeat(2), heartbeatSeconds: 30, restore: null, otherSessions: 0, expiresAt, ...extra } });

function setup(responses, { getToken = async () => 'id.token' } = {}) {
  const clock = { now: START };
  const fetch = scriptedFetch(responses);
  const calls = fetch.calls;
  const beacons = [];
  const beats = [];
  const states = [];
  const backstop = createBackstopCore({
    adapter: { onAgent() {}, agentArn: () => AGENT_ARN, currentStatus: () => ({ name: 'Available', arn: 'arn:x/agent-state/avail' }) },
    apiBase: 'https://api.example.com', fetch, getToken,
    sendBeacon: (url, body) => { beacons.push({ url, body: JSON.parse(body) }); return true; },
    startHeartbeat: (options) => {
      const handle = { options, stopped: false, update() {}, stop() { this.stopped = true; } };
      beats.push(handle);
      return handle;
    },
    setTimeout: (fn) => { fn(); return 0; },
    random: () => 0,
    now: () => clock.now,
    onChange: (state, detail) => states.push({ state, detail }),
  });
  /** The current session's heartbeat reports a 200 (and lets the renewal it may start run). */
  const beat = async (status = 200, handle = beats.at(-1)) => {
    handle.options.onResult(status, 0);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { clock, calls, beacons, beats, states, backstop, beat };
}

test('renewAt_should_fallInTheFirstThirdOfTheLastHalfHour_orOfTheLastTenthOfAShortLife', () => {
  const end = '2026-12-03T18:00:00Z';
  const at = Date.parse('2026-12-03T08:00:00Z');
  assert.equal(renewAt(end, at, { random: () => 0 }), Date.parse('2026-12-03T17:30:00Z'));
  assert.equal(renewAt(end, at, { random: () => 0.999999 }) < Date.parse('2026-12-03T17:40:00Z'), true);
  assert.equal(renewAt(end, at, { random: () => 0.5 }), Date.parse('2026-12-03T17:35:00Z'));
  // A one-hour life: a tenth of it, 6 minutes, before the end.
  assert.equal(renewAt('2026-12-03T09:00:00Z', at, { random: () => 0 }), Date.parse('2026-12-03T08:54:00Z'));
  // The page's clock is 5 minutes fast: the server's Date decides how long is left.
  assert.equal(renewAt(end, at + 5 * MINUTE, { serverNow: at, random: () => 0 }), Date.parse('2026-12-03T17:35:00Z'));
  assert.equal(renewAt(undefined, at), null, 'an older server says no end: no renewal');
  assert.equal(RENEW_LEAD_MS, 30 * MINUTE);
});

test('beat_should_renewTheSession_atItsTime_withAFreshSignIn_thenCloseTheOldOne', async () => {
  const asked = [];
  const { clock, calls, beacons, beats, states, backstop, beat } = setup([answer(OLD, END), answer(NEW, '2026-12-04T03:30:00Z', { otherSessions: 1 })],
    { getToken: async (options) => { asked.push(options); return `token-${asked.length}`; } });
  await backstop.register();

  clock.now = Date.parse(END) - 30 * MINUTE - 1;
  await beat();
  assert.equal(calls.length, 1, 'not yet: a millisecond before the renewal window');

  clock.now += 1;
  await beat();
  assert.equal(calls.length, 2, 'the renewal registered');
  assert.equal(calls[1].url, 'https://api.example.com/sessions');
  assert.equal(calls[1].init.headers.Authorization, 'Bearer token-2', 'with the sign-in asked anew');
  assert.deepEqual(JSON.parse(calls[1].init.body), { agentArn: AGENT_ARN, status: { name: 'Available', arn: 'arn:x/agent-state/avail' } });
  assert.equal(beats[0].stopped, true, 'the old session beats no more');
  assert.equal(beats.length, 2);
  assert.equal(beats[1].options.url, `https://api.example.com/sessions/${NEW}/heartbeat`);
  assert.deepEqual(beacons, [{ url: `https://api.example.com/sessions/${OLD}/close`,
    body: { token: OLD.toLowerCase().repeat(2), reason: 'replaced', status: { name: 'Available', arn: 'arn:x/agent-state/avail' } } }]);
  assert.deepEqual(states.at(-1), { state: STATE.OPEN, detail: { sessionId: NEW, reason: 'renewed', otherSessions: 0 } },
    'the old session the register counted is not another CCP of the agent');
  assert.equal(backstop.sessionId, NEW);
  assert.equal(states.some((s) => s.state !== STATE.OPEN && s.state !== STATE.REGISTERING), false, 'no CLOSED, no ERROR');
});

test('beat_should_goToTheNewSessionOnly_afterTheSwitch', async () => {
  const { clock, calls, beats, states, backstop, beat } = setup([answer(OLD, END), answer(NEW, '2026-12-04T03:30:00Z'), answer('X'.repeat(22), END)]);
  await backstop.register();
  clock.now = Date.parse(END) - 20 * MINUTE;
  await beat();
  const count = states.length;

  // The old session's worker answers late, even a 410: nothing of it reaches the page any more.
  beats[0].options.onResult(410, undefined, 'session_closed');
  beats[0].options.onResult(503);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(states.length, count, 'the old session says nothing more');
  assert.equal(backstop.sessionId, NEW);
  assert.equal(calls.length, 2, 'no register for the replaced session');

  await beat(200, beats[1]);
  assert.equal(calls.length, 2, 'the new session is not renewed before its own time');
});

test('renewal_should_startOnce_when_beatsArriveWhileItIsInFlight', async () => {
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  const { clock, calls, beats, backstop, beat } = setup([answer(OLD, END), async () => { await held; return answer(NEW, '2026-12-04T03:30:00Z'); }]);
  await backstop.register();
  clock.now = Date.parse(END) - 20 * MINUTE;
  await beat();
  await beat();
  await beat();
  assert.equal(calls.length, 2, 'one renewal register while one is in flight');

  release();
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(backstop.sessionId, NEW);
  assert.equal(beats.length, 2, 'one new heartbeat');
});

test('renewal_should_closeItsNewSession_when_thePageClosedWhileItWasInFlight', async () => {
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  const { clock, beacons, beats, backstop, beat } = setup([answer(OLD, END), async () => { await held; return answer(NEW, '2026-12-04T03:30:00Z'); }]);
  await backstop.register();
  clock.now = Date.parse(END) - 20 * MINUTE;
  await beat();
  backstop.onPageHide({});
  release();
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));

  assert.deepEqual(beacons.map((b) => b.url), [`https://api.example.com/sessions/${OLD}/close`, `https://api.example.com/sessions/${NEW}/close`]);
  assert.equal(beats.length, 1, 'nothing beats for the closed page');
});

test('failedRenewal_should_keepTheOldSessionBeating_tellTheAgent_andTryAgainAtMostOnceAMinute_withoutERROR', async () => {
  let token = null; // the identity provider cannot give a fresh token (no refresh token kept, or it is down)
  const asked = [];
  const { clock, calls, beacons, beats, states, backstop, beat } = setup([answer(OLD, END), { status: 503 }, new TypeError('fetch failed'),
    answer(NEW, '2026-12-04T03:30:00Z')], { getToken: async (options) => { asked.push(options); return token ?? (asked.length === 1 ? 'first' : null); } });
  await backstop.register();
  clock.now = Date.parse(END) - 25 * MINUTE;
  await beat();

  assert.equal(calls.length, 1, 'no register without a sign-in');
  assert.deepEqual(states.at(-1), { state: STATE.OPEN, detail: { sessionId: OLD, otherSessions: 0, renewal: 'failed', expiresAt: END, error: 'signed-out' } });
  assert.equal(beats[0].stopped, false, 'the old session goes on beating');
  assert.deepEqual(beacons, [], 'and stays open');

  const tries = asked.length;
  clock.now += 59 * 1000;
  await beat();
  assert.equal(asked.length, tries, 'not again within the minute');
  clock.now += 1000;
  await beat();
  assert.equal(asked.length, tries + 1, 'again a minute later');

  token = 'signed.in.again';
  clock.now += 119 * 1000;
  await beat();
  assert.equal(calls.length, 1, 'two failures: two minutes');
  clock.now += 1000;
  await beat();
  assert.equal(calls.length, 2);
  assert.deepEqual(states.at(-1).detail, { sessionId: OLD, otherSessions: 0, renewal: 'failed', expiresAt: END, status: 503, error: 'refused' });

  clock.now += 4 * MINUTE;
  await beat();
  assert.deepEqual(states.at(-1).detail, { sessionId: OLD, otherSessions: 0, renewal: 'failed', expiresAt: END, error: 'network', message: 'TypeError: fetch failed' });
  assert.equal(states.some((s) => s.state === STATE.ERROR || s.state === STATE.CLOSED), false, 'no ERROR while the old session lives');

  clock.now += 4 * MINUTE;
  await beat();
  assert.equal(backstop.sessionId, NEW, 'renewed once the sign-in works again');
  assert.equal(states.at(-1).detail.reason, 'renewed');
  assert.deepEqual(beacons.map((b) => b.body.reason), ['replaced']);
});

test('sessionWithoutAnEnd_should_neverRenew_likeOneFromAnOlderServer', async () => {
  const { clock, calls, backstop, beat } = setup([answer(OLD, undefined)]);
  await backstop.register();
  clock.now += 72 * HOUR;
  await beat();
  assert.equal(calls.length, 1);
});

test('handOver_should_passTheRenewalTime_toTheNextClientOfTheTab', async () => {
  const first = setup([answer(OLD, END)]);
  await first.backstop.register();
  const handed = first.backstop.handOver();
  assert.equal(handed.expiresAt, END);
  assert.equal(handed.renewAt, Date.parse(END) - 30 * MINUTE);
});

test('renewal_should_refreshTheSignInOnce_onA401_andCountTheOtherSessionsButTheOldOne', async () => {
  const asked = [];
  const { clock, calls, states, backstop, beat } = setup([answer(OLD, END), { status: 401 }, answer(NEW, '2026-12-04T03:30:00Z', { otherSessions: 3 })],
    { getToken: async (options) => { asked.push(options); return options.refresh ? 'refreshed.token' : 'stale.token'; } });
  await backstop.register();
  clock.now = Date.parse(END) - 25 * MINUTE;
  await beat();

  assert.deepEqual(asked.slice(1), [{}, { refresh: true }], 'the renewal asks once more, for a refreshed token');
  assert.equal(calls.length, 3);
  assert.equal(calls[2].init.headers.Authorization, 'Bearer refreshed.token');
  assert.equal(backstop.sessionId, NEW);
  assert.deepEqual(states.at(-1), { state: STATE.OPEN, detail: { sessionId: NEW, reason: 'renewed', otherSessions: 2 } });
});

test('renewal_should_stopAtASecond401_andSayWhy_orSayTheServersReason', async () => {
  const { clock, calls, states, backstop, beat } = setup([answer(OLD, END), { status: 401 }, { status: 401 },
    { status: 429, body: { error: 'too_many_sessions' } }]);
  await backstop.register();
  clock.now = Date.parse(END) - 25 * MINUTE;
  await beat();
  assert.equal(calls.length, 3, 'one refresh, not a loop');
  assert.deepEqual(states.at(-1).detail, { sessionId: OLD, otherSessions: 0, renewal: 'failed', expiresAt: END, status: 401, error: 'unauthenticated' });

  clock.now += 1 * MINUTE;
  await beat();
  assert.deepEqual(states.at(-1).detail, { sessionId: OLD, otherSessions: 0, renewal: 'failed', expiresAt: END, status: 429, error: 'too_many_sessions' });
  assert.equal(backstop.sessionId, OLD);
});
