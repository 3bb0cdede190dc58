// @ccp-backstop/client: keeps an Amazon Connect agent's status honest when their custom CCP tab closes.
// createBackstop wires the core (core.js) to a real page: Streams, fetch, sendBeacon, the heartbeat worker, the
// page's lifecycle events, the other CCP tabs of this browser and the leave-page guard during a live contact.
import { createBackstopCore, attachToPage, guardLiveContacts, tabPeers, workerHeartbeat, workerInterval, STATE } from './core.js';
import { createStreamsAdapter } from './streams-adapter.js';

export { STATE, createBackstopCore, createStreamsAdapter, guardLiveContacts, tabPeers, workerHeartbeat, workerInterval, attachToPage };
export { RESTORE_WAIT_MS, RETRY_DELAYS_MS, retryDelay } from './core.js';

const CHANNEL = 'ccp-backstop';

/**
 * Adds the backstop to a custom CCP and starts it: the session registers as soon as Streams reports the agent.
 *
 * @param {object} options  see index.d.ts (BackstopOptions)
 * @returns the running backstop (state, sessionId, otherSessions, stop())
 */
export function createBackstop(options = {}) {
  const { connect, adapter: given, apiBase, getToken, onChange, onRestore, guardLiveContact = true, window: win = globalThis } = options;
  if (!given && !connect) throw new TypeError('createBackstop needs `connect` (the amazon-connect-streams global) or an `adapter`');
  if (typeof apiBase !== 'string') throw new TypeError('createBackstop needs `apiBase`, the backstop API\'s base URL');
  const adapter = given ?? createStreamsAdapter(connect);
  const fetch = win.fetch.bind(win);
  // Literal `new Worker(new URL(..., import.meta.url))`: bundlers (Vite, webpack 5, Parcel) find and emit the
  // worker files from this pattern; served as plain ES modules they load beside this file.
  const heartbeatWorker = () => new Worker(new URL('./heartbeat-worker.js', import.meta.url), { type: 'module' });
  const tickWorker = () => new Worker(new URL('./tick-worker.js', import.meta.url), { type: 'module' });
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
  });
  attachToPage(backstop, win);
  if (peers) {
    adapter.onAgent(() => peers.hello());
    win.addEventListener('pagehide', () => peers.bye());
    win.addEventListener('pageshow', (event) => { if (event.persisted) peers.hello(); });
  }
  if (guardLiveContact) guardLiveContacts(adapter, win);
  backstop.start();
  return backstop;
}
