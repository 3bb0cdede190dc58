// The tick worker: started with an interval, it ticks the page at that cadence; a new start replaces the old
// timer, anything else stops it.
import { test, mock, before } from 'node:test';
import assert from 'node:assert/strict';

const posted = [];

before(async () => {
  mock.timers.enable({ apis: ['setInterval'] });
  globalThis.self = { postMessage: (message) => posted.push(message) };
  await import('../client/tick-worker.js');
});

const send = (data) => globalThis.self.onmessage({ data });

test('tick_should_comeEveryInterval_restartOnANewStart_andStopOnAnythingElse', () => {
  send({ type: 'start', ms: 10000 });
  mock.timers.tick(9999);
  assert.deepEqual(posted, [], 'not before the interval');
  mock.timers.tick(1);
  assert.deepEqual(posted, ['tick']);
  mock.timers.tick(20000);
  assert.equal(posted.length, 3);

  send({ type: 'start', ms: 5000 }); // replaces the 10 s timer: no double ticking
  posted.length = 0;
  mock.timers.tick(10000);
  assert.equal(posted.length, 2);

  send({ type: 'stop' });
  mock.timers.tick(60000);
  assert.equal(posted.length, 2);
  send(undefined);
  mock.timers.tick(60000);
  assert.equal(posted.length, 2);
});
