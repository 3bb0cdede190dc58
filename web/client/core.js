// The browser half of ccp-backstop: registers a session when Streams reports the agent, keeps it alive with
// heartbeats from a Web Worker, and on pagehide posts the close beacon so the server sets the agent Offline.
// Everything the page touches (Streams, fetch, sendBeacon, timers, the worker) comes in through `deps`,
// so this module runs unchanged on real Streams, on the local simulated Streams, and under node's tests.

export const STATE = Object.freeze({
  IDLE: 'idle',
  REGISTERING: 'registering',
  OPEN: 'open',
  CLOSED: 'closed',
  ERROR: 'error',
});

const JSON_AS_TEXT = 'text/plain;charset=UTF-8'; // a "simple" request: no CORS preflight, and what sendBeacon sends
const RETRY_DELAYS_MS = [1000, 2000, 5000, 10000, 30000];
// After a reload the close beacon's Offline may land a moment after the new page registered: wait this long
// for the agent to show Offline before giving the restore up.
export const RESTORE_WAIT_MS = 15000;

const isOffline = (status) => status?.type === 'offline';

/**
 * @param {object} deps
 * @param {object} deps.adapter       Streams adapter: onAgent(cb), agentArn(), currentStatus(); statuses(),
 *                                    setStatus(s) and setOfflineBestEffort() for the restore and the seed recipe
 * @param {string} deps.apiBase       beacon API base URL ('' = same origin)
 * @param {Function} deps.fetch       window.fetch
 * @param {Function} deps.sendBeacon  (url, body) => boolean
 * @param {Function} deps.startHeartbeat ({url, body, intervalMs, onResult}) => {update(body), stop()}
 * @param {Function} [deps.setTimeout]
 * @param {Function} [deps.onChange]  (state, detail) => void
 * @param {Function} [deps.onRestore] ({outcome: 'restored'|'not-offline'|'unknown-status'|'failed', status}) => void
 * @param {object}   [deps.peers]     other CCP tabs of this browser ({othersOpen()}): the seed recipe is skipped
 *                                    while one is open, since closing one of two tabs must keep the agent online
 * @param {Function} [deps.getToken]  async () => the signed-in agent's JWT from the contact centre's identity
 *                                    provider (sent as the register's bearer token), or null when signed out.
 *                                    Heartbeat and close never need it: they carry the session's own token.
 */
export function createBackstop(deps) {
  const {
    adapter,
    apiBase = '',
    fetch,
    sendBeacon,
    startHeartbeat,
    setTimeout: schedule = globalThis.setTimeout.bind(globalThis),
    onChange = () => {},
    onRestore = () => {},
    peers = { othersOpen: () => false },
    getToken,
  } = deps;

  let state = STATE.IDLE;
  let session = null; // { id, token, heartbeatSeconds }
  let heartbeat = null;
  let registering = null;
  let attempt = 0;
  let stopped = false;

  function setState(next, detail = {}) {
    state = next;
    onChange(next, detail);
  }

  function statusBody() {
    const status = adapter.currentStatus();
    return status ? { name: status.name, arn: status.arn ?? null } : undefined;
  }

  async function post(path, body, bearer) {
    const headers = { 'Content-Type': JSON_AS_TEXT };
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    return fetch(`${apiBase}${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      credentials: 'omit',
    });
  }

  async function register(reason = 'agent') {
    if (registering) return registering;
    registering = (async () => {
      stopHeartbeat();
      session = null;
      setState(STATE.REGISTERING, { reason });
      while (!stopped) {
        try {
          const bearer = getToken ? await getToken() : undefined;
          if (getToken && !bearer) {
            // Only the agent's own signed-in page may open their session: without a sign-in, no request at all.
            setState(STATE.ERROR, { status: 401, error: 'signed-out', message: 'sign in to protect this CCP' });
            return null;
          }
          const response = await post('/sessions', { agentArn: adapter.agentArn(), status: statusBody() }, bearer);
          if (response.status === 201) {
            const body = await response.json();
            session = { id: body.sessionId, token: body.token, heartbeatSeconds: body.heartbeatSeconds };
            attempt = 0;
            startHeartbeatFor(session);
            setState(STATE.OPEN, { sessionId: session.id, restore: body.restore ?? null, reason });
            if (body.restore) restoreAfterReload(body.restore);
            return session;
          }
          if (response.status === 401) {
            // The identity provider's token was refused (expired, revoked key, wrong audience): signing in again
            // is the fix, retrying is not.
            setState(STATE.ERROR, { status: 401, error: 'unauthenticated', message: 'your sign-in is no longer valid: sign in again' });
            return null;
          }
          if (response.status >= 400 && response.status < 500 && response.status !== 429) {
            // The server refused this agent or page (foreign instance, origin, another agent's sign-in):
            // retrying will not help.
            const problem = await response.json().catch(() => ({}));
            setState(STATE.ERROR, { status: response.status, error: problem.error, message: problem.message });
            return null;
          }
          setState(STATE.ERROR, { status: response.status, retrying: true });
        } catch (error) {
          setState(STATE.ERROR, { error: 'network', message: String(error), retrying: true });
        }
        await new Promise((resolve) => schedule(resolve, RETRY_DELAYS_MS[Math.min(attempt++, RETRY_DELAYS_MS.length - 1)]));
      }
      return null;
    })();
    try {
      return await registering;
    } finally {
      registering = null;
    }
  }

  /**
   * The server says this register follows a reload of the agent's last tab: put back the status they had, but
   * only onto Offline (the close's doing); if they are not Offline yet, the close's PutUserStatus may still be on
   * its way, so wait for Offline a while. Any other status means someone chose it: leave it.
   */
  function restoreAfterReload(target) {
    const known = adapter.statuses?.() ?? [];
    const status = known.find((s) => target.arn && s.arn === target.arn) ?? known.find((s) => s.name === target.name);
    if (!status || isOffline(status)) {
      onRestore({ outcome: 'unknown-status', status: target });
      return;
    }
    let done = false;
    const finish = (outcome) => {
      if (done) return;
      done = true;
      onRestore({ outcome, status });
    };
    const apply = () => {
      if (done || !isOffline(adapter.currentStatus())) return;
      done = true;
      Promise.resolve(adapter.setStatus(status))
        .then(() => onRestore({ outcome: 'restored', status }), () => onRestore({ outcome: 'failed', status }));
    };
    if (isOffline(adapter.currentStatus())) {
      apply();
      return;
    }
    adapter.onStatusChange?.(apply);
    schedule(() => finish('not-offline'), RESTORE_WAIT_MS);
  }

  function startHeartbeatFor(current) {
    heartbeat = startHeartbeat({
      url: `${apiBase}/sessions/${encodeURIComponent(current.id)}/heartbeat`,
      body: { token: current.token, status: statusBody() },
      intervalMs: current.heartbeatSeconds * 1000,
      onResult: (status) => onHeartbeatResult(current, status),
    });
  }

  function onHeartbeatResult(current, status) {
    if (session !== current || status === 204) return;
    if (status === 410 || status === 404 || status === 403) {
      // The server closed this session (e.g. the laptop slept past the stale limit and the agent was set
      // Offline) or no longer knows it: this tab is alive, so it registers anew and says what happened.
      setState(STATE.CLOSED, { byServer: true, status });
      register(status === 410 ? 'server-closed' : 'session-lost');
    }
  }

  function stopHeartbeat() {
    if (heartbeat) {
      heartbeat.stop();
      heartbeat = null;
    }
  }

  /** pagehide: the tab is closing, reloading or navigating away; the beacon outlives the page. */
  function onPageHide(event = {}) {
    if (!session) return false;
    const current = session;
    session = null;
    stopHeartbeat();
    const body = JSON.stringify({ token: current.token, reason: 'pagehide', status: statusBody() });
    const queued = sendBeacon(`${apiBase}/sessions/${encodeURIComponent(current.id)}/close`, body);
    // AWS's recipe as a first try: ask Streams for Offline. It often dies with the page (the beacon is what
    // counts), and it must not run while another CCP tab of this browser stays open.
    if (!peers.othersOpen()) {
      try {
        adapter.setOfflineBestEffort?.();
      } catch {
        // best effort only
      }
    }
    setState(STATE.CLOSED, { sessionId: current.id, beaconQueued: queued, persisted: Boolean(event.persisted) });
    return queued;
  }

  /** pageshow from the back/forward cache: the page lives again, with a closed session. */
  function onPageShow(event = {}) {
    if (event.persisted && !session && !stopped) register('bfcache');
  }

  function statusChanged() {
    if (heartbeat && session) heartbeat.update({ token: session.token, status: statusBody() });
  }

  return {
    start() {
      adapter.onAgent(() => register('agent'));
      if (adapter.onStatusChange) adapter.onStatusChange(statusChanged);
    },
    stop() {
      stopped = true;
      stopHeartbeat();
    },
    register,
    onPageHide,
    onPageShow,
    get state() { return state; },
    get sessionId() { return session?.id ?? null; },
  };
}

/**
 * Heartbeats from a dedicated Web Worker: Chrome throttles a hidden window's timers to once a minute after
 * five minutes, which would starve a 20 s heartbeat; a worker's timers keep their cadence.
 */
export function workerHeartbeat(workerUrl) {
  return ({ url, body, intervalMs, onResult }) => {
    const worker = new Worker(workerUrl, { type: 'module' });
    worker.onmessage = (event) => {
      if (event.data?.type === 'result') onResult(event.data.status);
    };
    worker.postMessage({ type: 'start', url, body, intervalMs });
    return {
      update(next) { worker.postMessage({ type: 'update', body: next }); },
      stop() { worker.postMessage({ type: 'stop' }); worker.terminate(); },
    };
  };
}

/**
 * Asks the browser's leave-page confirmation only while a contact is live (closing the tab drops a softphone
 * call); at any other time no beforeunload listener is registered, which keeps the page eligible for the
 * back/forward cache.
 */
export function guardLiveContacts(adapter, win = window) {
  const guard = (event) => {
    event.preventDefault();
    // Older browsers need a non-empty returnValue; all show their own text, never this one.
    event.returnValue = 'A call is live: closing this tab drops it.';
    return event.returnValue;
  };
  let guarding = false;
  const update = () => {
    const live = Boolean(adapter.onContact?.());
    if (live && !guarding) win.addEventListener('beforeunload', guard);
    if (!live && guarding) win.removeEventListener('beforeunload', guard);
    guarding = live;
  };
  adapter.onStatusChange?.(update);
  adapter.onAgent?.(update);
  return { update, get guarding() { return guarding; } };
}

/**
 * The other CCP tabs of this browser, over a BroadcastChannel: each tab says hello when it starts and bye on
 * pagehide; the others answer hello. A crashed tab never says bye, so a peer counts only while it answered
 * within the last `maxSilenceMs` (tabs ping each other every `pingMs`).
 */
export function tabPeers({ channel, agentArn, now = () => Date.now(), setInterval: every = globalThis.setInterval.bind(globalThis),
  pingMs = 10000, maxSilenceMs = 30000, id = Math.random().toString(36).slice(2) }) {
  const seen = new Map(); // peer id -> last heard
  const send = (type) => channel.postMessage({ type, id, agent: agentArn() });
  channel.onmessage = (event) => {
    const message = event.data ?? {};
    if (message.id === id || message.agent !== agentArn()) return;
    if (message.type === 'bye') {
      seen.delete(message.id);
      return;
    }
    seen.set(message.id, now());
    if (message.type === 'hello') send('here');
  };
  every(() => send('here'), pingMs);
  return {
    hello() { send('hello'); },
    bye() { send('bye'); },
    othersOpen() {
      const since = now() - maxSilenceMs;
      return [...seen.values()].some((at) => at >= since);
    },
  };
}

/** Wires the backstop to the page's lifecycle events. */
export function attachToPage(backstop, win = window) {
  win.addEventListener('pagehide', (event) => backstop.onPageHide(event));
  win.addEventListener('pageshow', (event) => backstop.onPageShow(event));
}
