// The beat loop and the heartbeat request on their own (the worker and the page's fallback both use them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { beatLoop, postHeartbeat } from '../client/heartbeat-request.js';

function timers() {
  const pending = [];
  const cancelled = [];
  return {
    pending, cancelled,
    setTimeout: (fn, ms) => { pending.push({ fn, ms, id: pending.length + 1 }); return pending.length; },
    clearTimeout: (id) => cancelled.push(id),
  };
}

test('beatLoop_should_waitAWholePeriodOnlyAfterA2xx_andRetrySoonerAfterAnythingElse', async () => {
  for (const [status, next] of [[200, 30_000], [204, 30_000], [299, 30_000], [300, 8_000], [199, 8_000], [503, 8_000], [0, 8_000]]) {
    const clock = timers();
    beatLoop(async () => status, 30_000, { ...clock, random: () => 0 });
    assert.equal(clock.pending[0].ms, 30_000, 'the first beat a period after the start');
    await clock.pending[0].fn();
    assert.equal(clock.pending[1].ms, next, `after a ${status}`);
  }
});

test('beatLoop_should_cancelTheWaitingBeat_onStop_andScheduleNothingAfterABeatInFlight', async () => {
  const clock = timers();
  let release;
  const stop = beatLoop(() => new Promise((resolve) => { release = resolve; }), 30_000, { ...clock, random: () => 0 });
  stop();
  assert.deepEqual(clock.cancelled, [1], 'the waiting beat is cancelled');

  const clock2 = timers();
  const stop2 = beatLoop(() => new Promise((resolve) => { release = resolve; }), 30_000, { ...clock2, random: () => 0 });
  const running = clock2.pending[0].fn();
  stop2();
  assert.deepEqual(clock2.cancelled, [], 'nothing waiting while a beat is in flight');
  release(200);
  await running;
  assert.equal(clock2.pending.length, 1, 'no beat after the stop');
});

test('postHeartbeat_should_timeTheRequestOut_onlyWhenAskedTo', async () => {
  const inits = [];
  const fetch = async (url, init) => { inits.push(init); return { status: 204, json: async () => ({}) }; };
  await postHeartbeat(fetch, 'https://api.example.com/h', { token: 't' }, 10_000);
  await postHeartbeat(fetch, 'https://api.example.com/h', { token: 't' });
  assert.ok(inits[0].signal instanceof AbortSignal, 'a signal that aborts after the timeout');
  assert.equal(inits[0].signal.aborted, false);
  assert.equal('signal' in inits[1], false, 'no timeout asked: no signal');
});

test('postHeartbeat_should_readTheOtherSessionsOnlyFromA200_andSurviveABodyThatIsNotJson', async () => {
  const answer = (status, json) => async () => ({ status, json });
  assert.deepEqual(await postHeartbeat(answer(200, async () => ({ otherSessions: 2 })), 'u', {}), { status: 200, otherSessions: 2 });
  assert.deepEqual(await postHeartbeat(answer(204, async () => ({ otherSessions: 2 })), 'u', {}), { status: 204, otherSessions: undefined });
  assert.deepEqual(await postHeartbeat(answer(200, async () => { throw new SyntaxError('not json'); }), 'u', {}),
    { status: 200, otherSessions: undefined });
});

test('postHeartbeat_should_passTheServersWordOnA410_soAnExpiredSessionIsToldFromAClosedOne', async () => {
  const answer = (status, json) => async () => ({ status, json });
  assert.deepEqual(await postHeartbeat(answer(410, async () => ({ error: 'session_expired', message: 'register again' })), 'u', {}),
    { status: 410, otherSessions: undefined, error: 'session_expired' });
  assert.deepEqual(await postHeartbeat(answer(410, async () => ({ error: 'session_closed' })), 'u', {}),
    { status: 410, otherSessions: undefined, error: 'session_closed' });
  assert.deepEqual(await postHeartbeat(answer(410, async () => { throw new SyntaxError('not json'); }), 'u', {}),
    { status: 410, otherSessions: undefined }, 'a 410 without our body is a plain 410');
});

test('postHeartbeat_should_sayHowLongAgoItWasThrottled_afterA429_untilABeatLands_butNotAfterANetworkFailure', async () => {
  const sent = [];
  const answers = [429, 0, 503, 200, 200];
  let clock = 1_000;
  const fetch = async (url, init) => {
    sent.push(JSON.parse(init.body));
    const status = answers.shift();
    clock += 500; // each answer takes half a second
    if (status === 0) throw new TypeError('network down');
    return { status, json: async () => ({ otherSessions: 0 }) };
  };
  const crowd = {};
  for (let i = 0; i < 5; i++) {
    await postHeartbeat(fetch, 'https://api/sessions/s/heartbeat', { token: 't' }, 0, crowd, () => clock);
    clock += 10_000; // the retry comes 10 s later
  }
  assert.deepEqual(sent.map((body) => body.crowdedMsAgo), [undefined, 10_000, 20_500, 31_000, undefined],
    'from the beat after the 429 until one lands (the network failure and the 503 do not clear it), how long since the 429');
  assert.equal(sent[0].token, 't');

  const calm = [];
  const fetchCalm = async (url, init) => { calm.push(JSON.parse(init.body)); throw new TypeError('offline'); };
  const own = {};
  for (let i = 0; i < 3; i++) await postHeartbeat(fetchCalm, 'https://api/x', { token: 't' }, 0, own);
  assert.ok(calm.every((body) => !('crowdedMsAgo' in body)), 'network failures alone never say crowded');
});

test('postHeartbeat_should_notSayCrowded_afterTheBackstopsOwnTooManyHeartbeats', async () => {
  const sent = [];
  const answers = [
    { status: 429, json: async () => ({ error: 'too_many_heartbeats', message: 'heartbeats come too often' }) },
    { status: 200, json: async () => ({ otherSessions: 0 }) },
    { status: 429, json: async () => ({ message: 'Too Many Requests' }) }, // API Gateway's throttle
    { status: 503, json: async () => ({}) },
  ];
  const fetch = async (url, init) => { sent.push(JSON.parse(init.body)); return answers.shift(); };
  const crowd = {};
  await postHeartbeat(fetch, 'https://api/x', { token: 't' }, 0, crowd, () => 1_000);
  await postHeartbeat(fetch, 'https://api/x', { token: 't' }, 0, crowd, () => 2_000);
  await postHeartbeat(fetch, 'https://api/x', { token: 't' }, 0, crowd, () => 3_000);
  await postHeartbeat(fetch, 'https://api/x', { token: 't' }, 0, crowd, () => 4_000);
  assert.deepEqual(sent.map((body) => body.crowdedMsAgo), [undefined, undefined, undefined, 1_000],
    'only the throttle\'s 429 is reported, from the next beat');
});
