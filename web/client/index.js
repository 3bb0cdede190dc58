// @ccp-backstop/client: keeps an Amazon Connect agent's status honest when their custom CCP tab closes.
// createBackstop wires the core (core.js) to a real page: Streams, fetch, sendBeacon, the heartbeat worker, the
// page's lifecycle events, the other CCP tabs of this browser and the leave-page guard during a live contact.
import { createBackstopCore, attachToPage, guardLiveContacts, tabPeers, workerHeartbeat, workerInterval, STATE } from './core.js';
import { createStreamsAdapter } from './streams-adapter.js';

export { STATE, createBackstopCore, createStreamsAdapter, guardLiveContacts, tabPeers, workerHeartbeat, workerInterval, attachToPage };
export { RESTORE_WAIT_MS, RETRY_DELAYS_MS, retryDelay } from './core.js';

const CHANNEL = 'ccp-backstop';

/** A worker beside this module; in a bundle without import.meta.url (IIFE), an error that names the way out. */
function packaged(create) {
  return () => {
    if (!import.meta.url) throw new Error('no import.meta.url in this bundle: copy the worker files and pass `workerUrls`');
    return create();
  };
}
// The tab's running client, on its window: a hot-reloaded module is a new module instance, the window is not.
const RUNNING = Symbol.for('@ccp-backstop/client');

/**
 * Adds the backstop to a custom CCP and starts it: the session registers as soon as Streams reports the agent.
 * One client per tab: creating a second one (React StrictMode, hot reload) ends the first and takes over its
 * open session when it talks to the same API (no second session, no Offline); otherwise the first is destroyed.
 *
 * @param {object} options  see index.d.ts (BackstopOptions)
 * @returns the running backstop (state, sessionId, otherSessions, stop(), destroy())
 */
export function createBackstop(options = {}) {
  const { connect, adapter: given, apiBase, getToken, onChange, onRestore, guardLiveContact = true, workerUrls,
    window: win = globalThis } = options;
  if (!given && !connect) throw new TypeError('createBackstop needs `connect` (the amazon-connect-streams global) or an `adapter`');
  if (typeof apiBase !== 'string') throw new TypeError('createBackstop needs `apiBase`, the backstop API\'s base URL');
  if (typeof getToken !== 'function') {
    // The API's register route has a JWT authorizer: without the agent's ID token every register is a 401.
    throw new TypeError('createBackstop needs `getToken`, async ({refresh}) => the signed-in agent\'s ID token (or null): '
      + 'the backstop API opens a session only for a signed-in agent');
  }
  const previous = win[RUNNING];
  const adopt = previous ? previous.takeOver(apiBase) : undefined;
  const adapter = given ?? createStreamsAdapter(connect);
  const fetch = win.fetch.bind(win);
  // Literal `new Worker(new URL(..., import.meta.url))`: bundlers (Vite, webpack 5, Parcel) find and emit the
  // worker files from this pattern; served as plain ES modules they load beside this file. esbuild and Rollup
  // emit nothing for it (and an IIFE bundle has no import.meta.url): the page copies the workers and says where.
  const heartbeatWorker = workerUrls?.heartbeat
    ? () => new Worker(workerUrls.heartbeat, { type: 'module' })
    : packaged(() => new Worker(new URL('./heartbeat-worker.js', import.meta.url), { type: 'module' }));
  const tickWorker = workerUrls?.tick
    ? () => new Worker(workerUrls.tick, { type: 'module' })
    : packaged(() => new Worker(new URL('./tick-worker.js', import.meta.url), { type: 'module' }));
  const peers = 'BroadcastChannel' in win
    ? tabPeers({ channel: new win.BroadcastChannel(CHANNEL), agentArn: () => (adapter.currentStatus() ? adapter.agentArn() : null),
      setInterval: workerInterval(tickWorker) })
    : undefined;
  const backstop = createBackstopCore({
    adapter,
    apiBase,
    fetch,
    sendBeacon: (url, body) => win.navigator.sendBeacon(url, body),
    startHeartbeat: workerHeartbeat(heartbeatWorker, { fetch }),
    onChange,
    onRestore,
    peers,
    getToken,
    adopt,
  });
  const endCore = backstop.destroy;
  const detach = [attachToPage(backstop, win)];
  if (peers) {
    const bye = () => peers.bye();
    const hello = (event) => { if (event.persisted) peers.hello(); };
    win.addEventListener('pagehide', bye);
    win.addEventListener('pageshow', hello);
    detach.push(adapter.onAgent(() => peers.hello()), () => {
      win.removeEventListener('pagehide', bye);
      win.removeEventListener('pageshow', hello);
      peers.close();
    });
  }
  if (guardLiveContact) detach.push(guardLiveContacts(adapter, win).stop);
  // The adapter this client made is its own to end; a given one is the page's.
  if (!given) detach.push(() => adapter.destroy());
  const unwire = () => {
    detach.splice(0).forEach((off) => { if (typeof off === 'function') off(); });
    if (win[RUNNING] === running) delete win[RUNNING];
  };
  const running = {
    takeOver(nextApiBase) {
      unwire();
      if (nextApiBase === apiBase) return backstop.handOver() ?? undefined;
      endCore();
      return undefined;
    },
  };
  win[RUNNING] = running;
  backstop.start();
  return Object.assign(backstop, {
    /** Ends this client and removes all it added to the page (workers, channel, listeners, the leave-page guard). */
    destroy() {
      endCore();
      unwire();
    },
  });
}
