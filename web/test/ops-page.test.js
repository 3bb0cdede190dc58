// The local ops page's boot script (js/ops.js) run as the browser runs it: imported as a module on the real ops.html
// (linkedom), with fetch and setInterval scripted. It must draw the stack's state at once, again every second, and
// say plainly when the local stack cannot be reached, then recover by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseHTML } from 'linkedom';

const HTML = readFileSync(new URL('../ops.html', import.meta.url), 'utf8');
const STATE = {
  instanceId: 'demo', now: Date.parse('2026-11-29T14:00:00Z'), transitions: [], events: [],
  agents: [{ userId: 'demo-ada', name: 'Ada Lovelace', statusName: 'Available', statusType: 'ROUTABLE', nextStatusName: null,
    onContact: false, openSessions: 1, sessions: [] }],
};

test('opsPage_should_drawTheStateAtOnce_refreshEverySecond_andSayWhenTheStackIsUnreachable', async (t) => {
  const { document } = parseHTML(HTML);
  const requests = [];
  const intervals = [];
  let answer = async () => Response.json(STATE);
  const globals = {
    document,
    fetch: (url, init) => { requests.push({ url, init }); return answer(); },
    setInterval: (fn, ms) => { intervals.push({ fn, ms }); return 1; },
  };
  const saved = Object.fromEntries(Object.keys(globals).map((k) => [k, Object.getOwnPropertyDescriptor(globalThis, k)]));
  for (const [k, v] of Object.entries(globals)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
  t.after(() => {
    for (const [k, d] of Object.entries(saved)) {
      if (d) Object.defineProperty(globalThis, k, d);
      else delete globalThis[k];
    }
  });
  const summary = () => document.querySelector('#summary').textContent;

  await import('../js/ops.js');
  const deadline = Date.now() + 20_000;
  while (document.body.dataset.ops !== 'ready' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
  assert.equal(document.body.dataset.ops, 'ready', 'drawn at once, before the first tick');
  assert.equal(summary(), 'Instance demo · 1 agents not Offline · 1 open sessions · 0 pending transitions');
  assert.deepEqual(requests, [{ url: '/_local/ops.json', init: { cache: 'no-store' } }]);
  assert.equal(intervals.length, 1);
  assert.equal(intervals[0].ms, 1000, 'every second');

  answer = async () => { throw new TypeError('fetch failed'); };
  await intervals[0].fn();
  assert.equal(summary(), 'Local stack unreachable (fetch failed); retrying…');
  assert.equal(document.body.dataset.ops, 'error');

  answer = async () => Response.json({ ...STATE, agents: [{ ...STATE.agents[0], statusType: 'OFFLINE', openSessions: 0 }] });
  await intervals[0].fn();
  assert.equal(document.body.dataset.ops, 'ready', 'back by itself');
  assert.equal(summary(), 'Instance demo · 0 agents not Offline · 0 open sessions · 0 pending transitions');
  assert.equal(requests.length, 3);
});
