// The heartbeat worker as the page drives it: messages in, timed POSTs out, each answer's status posted back.
// Loaded in node with a stand-in `self` and fetch; node's mock timers move its setTimeout.
import { test, mock, before } from 'node:test';
import assert from 'node:assert/strict';

const posted = [];
const requests = [];
let answer = async () => ({ status: 200, json: async () => ({ otherSessions: 2 }) });

before(async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-11-29T12:00:00Z') });
  globalThis.self = { postMessage: (message) => posted.push(message) };
  globalThis.fetch = async (url, init) => { requests.push({ url, init }); return answer(init); };
  await import('../client/heartbeat-worker.js');
});

const send = (data) => globalThis.self.onmessage({ data });
const settle = () => new Promise((resolve) => setImmediate(resolve));
function reset() {
  send({ type: 'stop' });
  posted.length = 0;
  requests.length = 0;
  answer = async () => ({ status: 200, json: async () => ({ otherSessions: 2 }) });
}

test('start_should_postEveryInterval_asAKeepaliveTextPlainRequest_andReportTheStatus', async () => {
  reset();
  send({ type: 'start', url: 'https://api/sessions/S/heartbeat', body: { token: 't' }, intervalMs: 20000 });

  mock.timers.tick(19999);
  await settle();
  assert.equal(requests.length, 0, 'not before the interval');
  mock.timers.tick(1);
  await settle();

  assert.equal(requests.length, 1);
  assert.equal(requests[0].url, 'https://api/sessions/S/heartbeat');
  assert.equal(requests[0].init.method, 'POST');
  assert.equal(requests[0].init.headers['Content-Type'], 'text/plain;charset=UTF-8');
  assert.equal(requests[0].init.body, '{"token":"t"}');
  assert.equal(requests[0].init.keepalive, true);
  assert.equal(requests[0].init.credentials, 'omit');
  assert.deepEqual(posted, [{ type: 'result', status: 200, otherSessions: 2, at: Date.now() }],
    'the status and the server\'s count of the agent\'s other sessions');

  for (let beat = 0; beat < 2; beat++) {
    mock.timers.tick(20000);
    await settle();
  }
  assert.equal(requests.length, 3, 'one a period, each timed from the end of the one before');
});

test('aFailedBeat_should_beRetriedAfterAThirdOfThePeriod_notAWholeOne', async () => {
  reset();
  answer = async () => ({ status: 503 });
  send({ type: 'start', url: 'u', body: {}, intervalMs: 30000 });
  mock.timers.tick(30000);
  await settle();
  assert.equal(requests.length, 1);

  answer = async () => ({ status: 200, json: async () => ({ otherSessions: 0 }) });
  mock.timers.tick(7999);
  await settle();
  assert.equal(requests.length, 1, 'not within a quarter period (the server would refuse it as too frequent)');
  mock.timers.tick(4001);
  await settle();
  assert.equal(requests.length, 2, 'within 0.4 of the period');

  mock.timers.tick(29999);
  await settle();
  assert.equal(requests.length, 2, 'after a beat that landed, the full period again');
  mock.timers.tick(1);
  await settle();
  assert.equal(requests.length, 3);
});

test('aBeatThatHangs_should_beAbortedAfterAThirdOfThePeriod_andTheBeatsGoOn', async () => {
  reset();
  answer = async (init) => new Promise((resolve, reject) => {
    init.signal.addEventListener('abort', () => reject(init.signal.reason));
  });
  send({ type: 'start', url: 'u', body: {}, intervalMs: 900 });
  mock.timers.tick(900);
  await settle();
  assert.equal(requests.length, 1);
  assert.ok(requests[0].init.signal, 'the request carries a timeout');

  // Real time passes (setInterval is not mocked here) until the 300 ms timeout aborts the request and it reports.
  await new Promise((resolve) => {
    const poll = setInterval(() => { if (posted.length > 0) { clearInterval(poll); resolve(); } }, 20);
  });
  assert.deepEqual(posted.map((m) => m.status), [0], 'a hung request reports as a network failure');
  answer = async () => ({ status: 200, json: async () => ({ otherSessions: 0 }) });
  mock.timers.tick(360);
  await settle();
  assert.equal(requests.length, 2, 'and the next beat comes');
});

test('update_should_changeTheNextBeatsBody', async () => {
  reset();
  send({ type: 'start', url: 'u', body: { token: 't' }, intervalMs: 1000 });
  send({ type: 'update', body: { token: 't', status: { name: 'Break' } } });

  mock.timers.tick(1000);
  await settle();

  assert.equal(requests[0].init.body, '{"token":"t","status":{"name":"Break"}}');
});

test('stop_should_endTheBeats_andAnUpdateAfterItStartsNothing', async () => {
  reset();
  send({ type: 'start', url: 'u', body: {}, intervalMs: 1000 });
  send({ type: 'stop' });
  send({ type: 'update', body: { token: 'late' } });

  mock.timers.tick(5000);
  await settle();

  assert.equal(requests.length, 0);
  assert.equal(posted.length, 0);
});

test('networkFailure_should_reportStatusZero_andKeepBeating', async () => {
  reset();
  answer = async () => { throw new TypeError('Failed to fetch'); };
  send({ type: 'start', url: 'u', body: {}, intervalMs: 1000 });

  mock.timers.tick(1000);
  await settle();
  answer = async () => ({ status: 410 });
  mock.timers.tick(400); // a failed beat is retried within 0.4 of the period
  await settle();

  assert.deepEqual(posted.map((m) => m.status), [0, 410]);
});

test('startAgain_should_replaceTheTimer_notAddASecondOne', async () => {
  reset();
  send({ type: 'start', url: 'first', body: {}, intervalMs: 1000 });
  send({ type: 'start', url: 'second', body: {}, intervalMs: 1000 });

  mock.timers.tick(1000);
  await settle();

  assert.deepEqual(requests.map((r) => r.url), ['second']);
});

test('unknownOrEmptyMessages_should_changeNothing', async () => {
  reset();
  send(null);
  send({ type: 'bogus' });
  mock.timers.tick(5000);
  await settle();
  assert.equal(requests.length, 0);
});

test('beat_should_postTheServersWordOnA410_withTheStatus', async () => {
  reset();
  answer = async () => ({ status: 410, json: async () => ({ error: 'session_expired' }) });
  send({ type: 'start', url: 'https://api/sessions/S/heartbeat', body: { token: 't' }, intervalMs: 20000 });
  mock.timers.tick(20000);
  await settle();

  assert.deepEqual(posted, [{ type: 'result', status: 410, otherSessions: undefined, error: 'session_expired', at: Date.now() }]);
  reset();
});
