// The client bundled as the README's recipes say (web/fixtures: esbuild, Vite, webpack), built here, in the test
// command: each emits both workers, self-contained; the esbuild IIFE loads and starts them from `workerUrls`.
// In real Chromium against the local stack: BundledClientBrowserTest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { buildFixtures } from '../fixtures/build.mjs';

const FIXTURE = new URL('../fixtures/esbuild-app/', import.meta.url);
const AGENT_ARN = 'arn:aws:connect:us-east-1:123456789012:instance/i-1/agent/u-1';

/** The recipe: the app as an IIFE, each worker as its own bundle. */
async function bundle() {
  const common = { bundle: true, write: false, logLevel: 'silent', absWorkingDir: new URL('..', import.meta.url).pathname };
  const [app, heartbeat, tick] = await Promise.all([
    build({ ...common, entryPoints: [new URL('app.js', FIXTURE).pathname], format: 'iife' }),
    build({ ...common, entryPoints: ['node_modules/@ccp-backstop/client/heartbeat-worker.js'], format: 'esm' }),
    build({ ...common, entryPoints: ['node_modules/@ccp-backstop/client/tick-worker.js'], format: 'esm' }),
  ]);
  return { app: app.outputFiles[0].text, heartbeat: heartbeat.outputFiles[0].text, tick: tick.outputFiles[0].text };
}

test('esbuildIife_should_load_andStartTheWorkersFromTheUrlsThePageGives', async () => {
  const { app } = await bundle();
  const workers = [];
  const listeners = [];
  const page = {
    Worker: class { constructor(url, options) { workers.push({ url: String(url), options }); } postMessage() {} terminate() {} },
    addEventListener: (type) => listeners.push(type), removeEventListener() {},
    fetch: async () => ({ status: 201, json: async () => ({ sessionId: 'S'.repeat(22), token: 'T'.repeat(43), heartbeatSeconds: 20 }) }),
    navigator: { sendBeacon: () => true },
    BroadcastChannel: class { postMessage() {} close() {} },
    console, setTimeout, clearTimeout, setInterval, clearInterval, Promise,
  };
  page.window = page;
  vm.createContext(page);
  vm.runInContext(app, page); // an IIFE bundle must not throw on load

  const agentListeners = [];
  const adapter = { onAgent: (l) => { agentListeners.push(l); }, onStatusChange() {}, agentArn: () => AGENT_ARN,
    currentStatus: () => ({ name: 'Available', arn: 'arn:x/agent-state/avail', type: 'routable' }) };
  const states = [];
  const backstop = page.startBackstop({ adapter, apiBase: '', getToken: async () => 'id-token', window: page, onChange: (s, d) => states.push([s, d.heartbeat]) });
  agentListeners.forEach((l) => l());
  for (let i = 0; i < 20 && backstop.state !== 'open'; i++) await new Promise((resolve) => setImmediate(resolve));

  assert.equal(backstop.state, 'open');
  assert.deepEqual(workers.map((w) => w.url).sort(), ['/assets/heartbeat-worker.js', '/assets/tick-worker.js'], 'the copied workers');
  assert.ok(states.every(([, heartbeat]) => heartbeat !== 'page-timers'), 'not the page\'s throttled timers');
  backstop.destroy();
});

test('esbuildWorkerBundles_should_beSelfContained_andBeatOnTheirOwn', async () => {
  const { heartbeat, tick } = await bundle();
  assert.doesNotMatch(heartbeat, /^\s*import\s/m, 'no import left: the copied file needs nothing beside it');
  assert.doesNotMatch(tick, /^\s*import\s/m);

  const posted = [];
  const requests = [];
  const self = { postMessage: (m) => posted.push(m) };
  const scope = vm.createContext({
    self, setTimeout, clearTimeout, Math, Date, Promise, AbortSignal, JSON,
    fetch: async (url, init) => { requests.push({ url, body: JSON.parse(init.body) }); return { status: 200, json: async () => ({ otherSessions: 0 }) }; },
  });
  vm.runInContext(heartbeat, scope);
  self.onmessage({ data: { type: 'start', url: 'https://api.example.com/sessions/S/heartbeat', body: { token: 'T' }, intervalMs: 30 } });
  for (let i = 0; i < 100 && posted.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  self.onmessage({ data: { type: 'stop' } });

  assert.equal(requests[0].url, 'https://api.example.com/sessions/S/heartbeat');
  assert.equal(posted[0].type, 'result');
  assert.equal(posted[0].status, 200);
});

test('viteAndWebpackRecipes_should_emitBothWorkers_selfContained_andReferencedByTheApp', async () => {
  const out = await mkdtemp(path.join(tmpdir(), 'bundlers-'));
  try {
    const built = await buildFixtures(out, ['vite', 'webpack']);
    for (const [bundler, files] of Object.entries(built)) {
      const app = await readFile(path.join(out, bundler, 'app.js'), 'utf8');
      const scripts = files.filter((f) => f.endsWith('.js') && f !== 'app.js');
      const workers = await Promise.all(scripts.map((f) => readFile(path.join(out, bundler, f), 'utf8')));
      const heartbeat = workers.find((w) => w.includes('heartbeat'));
      const tick = workers.find((w) => w !== heartbeat && /postMessage/.test(w));
      assert.ok(heartbeat, `${bundler}: the heartbeat worker emitted (${files})`);
      assert.ok(tick, `${bundler}: the tick worker emitted (${files})`);
      assert.ok(workers.every((w) => !/^\s*import\s/m.test(w)), `${bundler}: workers need nothing beside them`);
      assert.doesNotMatch(app, /heartbeat-worker\.js['"]\s*,\s*import\.meta\.url/, `${bundler}: no source path left for the browser`);
      if (bundler === 'vite') {
        for (const f of scripts) assert.ok(app.includes(`/${f}`), `vite: the app points at ${f}`);
      }
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
