// The browser half of ccp-backstop: registers a session when Streams reports the agent, keeps it alive with
// heartbeats from a Web Worker, and on pagehide posts the close beacon so the server sets the agent Offline.
// Everything the page touches (Streams, fetch, sendBeacon, timers, the worker) comes in through `deps`,
// so this module runs unchanged on real Streams, on the local simulated Streams, and under node's tests.
// index.js wires it to a real page (createBackstop); this is the core, for tests and custom adapters.
import { postHeartbeat, beatLoop } from './heartbeat-request.js';

export const STATE = Object.freeze({
  IDLE: 'idle',
  REGISTERING: 'registering',
  OPEN: 'open',
  CLOSED: 'closed',
  ERROR: 'error',
  /** The session is open but heartbeats are failing (network, 5xx, throttled): closing may not set Offline. */
  DEGRADED: 'degraded',
});

const JSON_AS_TEXT = 'text/plain;charset=UTF-8'; // a "simple" request: no CORS preflight, and what sendBeacon sends
export const RETRY_DELAYS_MS = Object.freeze([1000, 2000, 5000, 10000, 30000]);
// After a reload the close beacon's Offline may land a moment after the new page registered: wait this long
// for the agent to show Offline before giving the restore up.
export const RESTORE_WAIT_MS = 15000;
// A session is renewed (a new one registered with a fresh sign-in, the old one closed) this long before its end,
// or a tenth of its life if that is shorter: time for a failed renewal to be tried again, and for the agent to
// sign in again, before the server's 410 session_expired.
export const RENEW_LEAD_MS = 30 * 60 * 1000;
// A failed renewal is tried again on a later heartbeat's result, never sooner than this, doubling up to the last.
export const RENEW_RETRY_MS = Object.freeze([60000, 120000, 240000]);

const isOffline = (status) => status?.type === 'offline';

/**
 * A register retry's wait: the step's delay with jitter (between half and all of it), so after an outage the
 * agents of a contact centre do not retry in step.
 */
export function retryDelay(attempt, random = Math.random) {
  const base = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)];
  return Math.round(base / 2 + random() * (base / 2));
}

/**
 * When a session registered at `receivedAt` (the page's clock) and ending at `expiresAt` (the server's ISO-8601
 * instant) is renewed: in the first third of its renewal window (RENEW_LEAD_MS before its end, or a tenth of its
 * life), at a place of its own, so the pages a shift opened together do not renew together. `serverNow` (the
 * answer's Date header, when the API exposes it to the page: a cross-origin API must list it in
 * Access-Control-Expose-Headers) makes it immune to the page's clock being off; without it the page's clock counts,
 * and one slow by more than the window reaches the end unrenewed (then the 410 path). Null when there is no end.
 */
export function renewAt(expiresAt, receivedAt, { serverNow, random = Math.random } = {}) {
  const end = Date.parse(expiresAt ?? '');
  if (!Number.isFinite(end)) return null;
  const serverAt = Number.isFinite(serverNow) ? serverNow : receivedAt;
  const remaining = Math.max(0, end - serverAt);
  const lead = Math.min(RENEW_LEAD_MS, remaining / 10);
  return receivedAt + remaining - lead + random() * (lead / 3);
}

/**
 * @param {object} deps
 * @param {object} deps.adapter       Streams adapter: onAgent(cb), agentArn(), currentStatus(); statuses(),
 *                                    setStatus(s) and setOfflineBestEffort() for the restore and the seed recipe
 * @param {string} deps.apiBase       beacon API base URL ('' = same origin)
 * @param {Function} deps.fetch       window.fetch
 * @param {Function} deps.sendBeacon  (url, body) => boolean
 * @param {Function} deps.startHeartbeat ({url, body, intervalMs, onResult, onFallback}) => {update(body), stop()};
 *                                    onResult(status, otherSessions, error): error is the server's word on a 410
 * @param {Function} [deps.random]    () => [0, 1): the register retries' jitter and the renewal's place
 * @param {Function} [deps.now]       () => milliseconds since the epoch (Date.now): when to renew the session
 * @param {Function} [deps.setTimeout]
 * @param {Function} [deps.onChange]  (state, detail) => void
 * @param {Function} [deps.onRestore] ({outcome: 'restored'|'not-offline'|'unknown-status'|'failed', status}) => void
 * @param {Function} [deps.reportError] (error) => void: a callback (onChange, onRestore) threw; default console.error
 * @param {object}   [deps.adopt]     a session another client of this tab handed over (handOver()): kept, not
 *                                    registered anew
 * @param {object}   [deps.peers]     other CCP tabs of this browser ({othersOpen()}): the seed recipe is skipped
 *                                    while one is open, since closing one of two tabs must keep the agent online;
 *                                    the server's count of the agent's other sessions (any browser, any device)
 *                                    skips it too
 * @param {Function} [deps.getToken]  async ({refresh}) => the signed-in agent's JWT from the contact centre's identity
 *                                    provider (sent as the register's bearer token), or null when signed out.
 *                                    Heartbeat and close never need it: they carry the session's own token.
 *                                    After a 401 it is asked once more with {refresh: true}: a freshly issued token,
 *                                    if it can get one (a rotated key, an expiry or a clock skew in between).
 */
export function createBackstopCore(deps) {
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
    random = Math.random,
    now = () => Date.now(),
    reportError = (error) => console.error('ccp-backstop: a callback of the page threw', error),
    adopt,
  } = deps;

  let state = STATE.IDLE;
  let session = null; // { id, token, heartbeatSeconds }
  let heartbeat = null;
  let registering = null;
  let attempt = 0;
  let stopped = false;
  let unsubscribe = []; // the adapter's listeners this client added; null once destroyed
  let otherSessions = 0; // the agent's other open sessions, as the server last counted them
  let beatsFailing = false;
  let knownStatus; // the status the agent chose, as last read: the close beacon's, when Streams can no longer answer
  let renewing = null; // the renewal in flight: one at a time
  let renewFailures = 0;
  let renewNotBefore = 0; // after a failed renewal: the earliest time of the next try

  /**
   * Runs the page's callback apart from the client's own work: an exception in the page's rendering is reported
   * and changes nothing (inside register's try it would pass for a network error and open a second session).
   */
  function notify(callback, ...args) {
    try {
      callback(...args);
    } catch (error) {
      try { reportError(error); } catch { /* nothing left to tell */ }
    }
  }

  function setState(next, detail = {}) {
    state = next;
    notify(onChange, next, detail);
  }

  /**
   * The status the agent chose (never a contact-driven system state without an ARN), or none; kept, because after
   * connect.core.terminate() Streams has no agent data and throws (or knows no agent) until a new initCCP.
   */
  function statusBody() {
    try {
      const status = adapter.chosenStatus ? adapter.chosenStatus() : adapter.currentStatus();
      if (status) knownStatus = status.arn ? { name: status.name, arn: status.arn } : undefined;
    } catch {
      // Streams without its data provider: what the client last knew stands
    }
    return knownStatus;
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
      let refreshing = false; // after a 401: the one retry, with a token issued anew
      while (!stopped) {
        try {
          const bearer = getToken ? await getToken(refreshing ? { refresh: true } : {}) : undefined;
          if (getToken && !bearer && refreshing) {
            setState(STATE.ERROR, { status: 401, error: 'unauthenticated', message: 'your sign-in is no longer valid: sign in again' });
            return null;
          }
          if (getToken && !bearer) {
            // Only the agent's own signed-in page may open their session: without a sign-in, no request at all.
            setState(STATE.ERROR, { status: 401, error: 'signed-out', message: 'sign in to protect this CCP' });
            return null;
          }
          const agentArn = adapter.agentArn();
          const response = await post('/sessions', { agentArn, status: statusBody() }, bearer);
          if (response.status === 201) {
            const body = await response.json();
            if (unsubscribe === null) {
              // destroy() while this request was in flight: nobody would keep the session or close it.
              sendBeacon(`${apiBase}/sessions/${encodeURIComponent(body.sessionId)}/close`, JSON.stringify({ token: body.token, reason: 'destroy' }));
              return null;
            }
            session = { id: body.sessionId, token: body.token, heartbeatSeconds: body.heartbeatSeconds, agentArn,
              ...renewalOf(body, response) };
            attempt = 0;
            renewFailures = 0;
            renewNotBefore = 0;
            otherSessions = Number(body.otherSessions) || 0;
            beatsFailing = false;
            // stop() while this request was in flight: the session is open (pagehide still closes it), but
            // nothing may beat for a stopped backstop.
            const heartbeatStarted = stopped ? true : startHeartbeatFor(session);
            setState(STATE.OPEN, { sessionId: session.id, restore: body.restore ?? null, reason, otherSessions });
            if (!heartbeatStarted) {
              // The session is open but nothing can keep it alive: say so, and never register again for it
              // (another session would leave this one open, to be closed as stale).
              setState(STATE.DEGRADED, { sessionId: session.id, error: 'heartbeat-failed', message: 'heartbeats cannot run in this page' });
            }
            if (body.restore) restoreAfterReload(body.restore);
            return session;
          }
          if (response.status === 401 && getToken && !refreshing) {
            // The token was refused: a key rotated or the token expired on the way, which a token issued anew
            // fixes. Once, at once: a second 401 (wrong audience, a clock far off) needs the agent.
            refreshing = true;
            continue;
          }
          if (response.status === 401) {
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
        await new Promise((resolve) => schedule(resolve, retryDelay(attempt++, random)));
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
    // Both or nothing: an adapter that cannot set a status cannot restore one.
    const known = adapter.setStatus ? adapter.statuses?.() ?? [] : [];
    const status = known.find((s) => target.arn && s.arn === target.arn) ?? known.find((s) => s.name === target.name);
    if (!status || isOffline(status)) {
      notify(onRestore, { outcome: 'unknown-status', status: target });
      return;
    }
    let done = false;
    const finish = (outcome) => {
      if (done) return;
      done = true;
      notify(onRestore, { outcome, status });
    };
    // The agent chose a status in this page meanwhile (Offline included): theirs wins over the restore.
    adapter.onAgentChoice?.(() => finish('not-offline'));
    const apply = () => {
      if (done || !isOffline(adapter.currentStatus())) return;
      done = true;
      new Promise((resolve) => resolve(adapter.setStatus(status)))
        .then(() => notify(onRestore, { outcome: 'restored', status }), () => notify(onRestore, { outcome: 'failed', status }));
    };
    if (isOffline(adapter.currentStatus())) {
      apply();
      return;
    }
    adapter.onStatusChange?.(apply);
    schedule(() => finish('not-offline'), RESTORE_WAIT_MS);
  }

  /** The session's end and the time to renew it, from a register's 201 (none from an older server: no renewal). */
  function renewalOf(body, response) {
    const received = now();
    const date = Date.parse(response.headers?.get?.('date') ?? '');
    const at = renewAt(body.expiresAt, received, { serverNow: date, random });
    return at === null ? {} : { expiresAt: body.expiresAt, renewAt: at };
  }

  /**
   * Registers the session's successor with a fresh sign-in while it still lives, moves the heartbeats to it and
   * closes it (the server sees the agent's other open session: no Offline). The server's 410 at the end would do
   * the same, but at that moment with no way back: a sign-in that cannot be renewed then (no refresh token, the
   * identity provider down) would leave the agent to be set Offline. Here a failure keeps the old session beating,
   * is tried again on a later beat and tells the agent to sign in again, while there is time.
   */
  function renew(current) {
    if (renewing) return renewing;
    renewing = (async () => {
      let failure;
      try {
        let refreshing = false;
        for (;;) {
          const bearer = getToken ? await getToken(refreshing ? { refresh: true } : {}) : undefined;
          if (getToken && !bearer) {
            failure = { error: refreshing ? 'unauthenticated' : 'signed-out' };
            break;
          }
          const response = await post('/sessions', { agentArn: current.agentArn, status: statusBody() }, bearer);
          if (response.status === 401 && getToken && !refreshing) {
            refreshing = true;
            continue;
          }
          if (response.status !== 201) {
            const problem = await response.json?.().catch(() => ({})) ?? {};
            failure = { status: response.status, error: response.status === 401 ? 'unauthenticated' : problem.error ?? 'refused' };
            break;
          }
          const body = await response.json();
          const next = { id: body.sessionId, token: body.token, heartbeatSeconds: body.heartbeatSeconds, agentArn: current.agentArn,
            ...renewalOf(body, response) };
          if (session !== current || stopped || unsubscribe === null) {
            // The page closed, the agent changed or the old session ended meanwhile: the new one has no page.
            sendBeacon(`${apiBase}/sessions/${encodeURIComponent(next.id)}/close`, JSON.stringify({ token: next.token, reason: 'replaced', status: knownStatus }));
            return null;
          }
          // Beats go to the new session before the old one closes: the agent has an open session throughout.
          stopHeartbeat();
          session = next;
          renewFailures = 0;
          renewNotBefore = 0;
          otherSessions = Math.max(0, (Number(body.otherSessions) || 0) - 1); // the old one, closing now
          const started = startHeartbeatFor(next);
          sendBeacon(`${apiBase}/sessions/${encodeURIComponent(current.id)}/close`, JSON.stringify({ token: current.token, reason: 'replaced', status: knownStatus }));
          if (started) setState(STATE.OPEN, { sessionId: next.id, reason: 'renewed', otherSessions });
          else setState(STATE.DEGRADED, { sessionId: next.id, error: 'heartbeat-failed', message: 'heartbeats cannot run in this page' });
          return next;
        }
      } catch (error) {
        failure = { error: 'network', message: String(error) };
      }
      renewFailures += 1;
      renewNotBefore = now() + RENEW_RETRY_MS[Math.min(renewFailures, RENEW_RETRY_MS.length) - 1];
      if (session === current) {
        // Still protected by the old session until its end: a notice, not an error.
        setState(state === STATE.DEGRADED ? STATE.DEGRADED : STATE.OPEN, { sessionId: current.id, otherSessions, renewal: 'failed',
          expiresAt: current.expiresAt, ...failure });
      }
      return null;
    })();
    const done = renewing;
    done.finally(() => { if (renewing === done) renewing = null; });
    return done;
  }

  /** True when heartbeats run (in a worker, or on the page's timers when the worker could not start). */
  function startHeartbeatFor(current) {
    try {
      heartbeat = startHeartbeat({
        url: `${apiBase}/sessions/${encodeURIComponent(current.id)}/heartbeat`,
        body: { token: current.token, status: statusBody() },
        intervalMs: current.heartbeatSeconds * 1000,
        onResult: (status, others, error) => onHeartbeatResult(current, status, others, error),
        onFallback: (why) => {
          if (session === current) setState(state, { sessionId: current.id, heartbeat: 'page-timers', message: why, otherSessions });
        },
      });
      return true;
    } catch {
      heartbeat = null;
      return false;
    }
  }

  function onHeartbeatResult(current, status, others, error) {
    if (session !== current) return;
    if (status === 410 && error === 'session_expired') {
      // The session reached the server's maximum age (MAX_SESSION_HOURS): nothing happened to the agent, and the
      // server holds their Offline back while this page registers again, with a token from getToken (refreshed if
      // the kept one ran out during the shift). No CLOSED state: the agent has nothing to read or do.
      register('session-expired');
      return;
    }
    if (status === 200 || status === 204) {
      const count = Number(others);
      const changed = Number.isFinite(count) && count !== otherSessions;
      if (Number.isFinite(count)) otherSessions = count;
      if (beatsFailing || changed) {
        const recovered = beatsFailing;
        beatsFailing = false;
        setState(STATE.OPEN, { sessionId: current.id, otherSessions, ...(recovered ? { recovered } : {}) });
      }
      // On a beat's result, not on a timer of the page's: a hidden tab's timers are throttled, the worker's beats not.
      if (current.renewAt != null && now() >= current.renewAt && now() >= renewNotBefore) renew(current);
      return;
    }
    if (status === 410 || status === 404 || status === 403) {
      // The server closed this session (e.g. the laptop slept past the stale limit and the agent was set
      // Offline) or no longer knows it: this tab is alive, so it registers anew and says what happened.
      setState(STATE.CLOSED, { byServer: true, status });
      register(status === 410 ? 'server-closed' : 'session-lost');
      return;
    }
    // Network down (0), 5xx, 429, 401: the session is not being kept alive right now. The next beat tries
    // again; until one lands the page must not claim protection.
    beatsFailing = true;
    setState(STATE.DEGRADED, { sessionId: current.id, status, error: status === 0 ? 'network' : 'heartbeat-refused' });
  }

  function stopHeartbeat() {
    if (heartbeat) {
      heartbeat.stop();
      heartbeat = null;
    }
  }

  /**
   * Ends the session with the close beacon, built from what the client knows: no Streams call at all. The beacon
   * goes first: on pagehide every moment before it is added to the close (stopping the worker waits on nothing,
   * yet it is work the beacon need not queue behind).
   */
  function closeSession(reason) {
    const current = session;
    session = null;
    const body = JSON.stringify({ token: current.token, reason, status: knownStatus });
    const queued = sendBeacon(`${apiBase}/sessions/${encodeURIComponent(current.id)}/close`, body);
    stopHeartbeat();
    return { current, queued };
  }

  /** pagehide: the tab is closing, reloading or navigating away; the beacon outlives the page. */
  function onPageHide(event = {}) {
    if (!session) return false;
    const { current, queued } = closeSession('pagehide');
    // The server is the truth about the agent's other CCPs: while it answers, the beacon alone decides (it sets
    // Offline only when this was the agent's last open session, atomically). AWS's recipe (ask Streams for
    // Offline) is kept for when the server is not answering this page (heartbeats failing), and even then only
    // when neither the server's last count nor this browser's other tabs show another CCP of the agent: a count
    // can be a heartbeat old, so it is never the reason to set Offline while the server can decide.
    if (beatsFailing && otherSessions === 0 && !peers.othersOpen()) {
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
    const status = statusBody();
    if (heartbeat && session) heartbeat.update({ token: session.token, status });
  }

  /**
   * Streams reports an agent: at start, and again after connect.core.terminate() and a new initCCP (log out, log
   * in). The same agent keeps the open session (a second one would count as another CCP of theirs); another
   * agent in this tab ends the last one's session as a logout and registers their own.
   */
  function agentReported() {
    if (session) {
      let arn;
      try { arn = adapter.agentArn(); } catch { return; }
      if (arn === session.agentArn) {
        statusChanged();
        return;
      }
      closeSession('logout');
      setState(STATE.CLOSED, { reason: 'agent-changed' });
    }
    register('agent');
  }

  /** Stops everything this client runs: heartbeats, retries, its listeners on the adapter. */
  function end() {
    stopped = true;
    stopHeartbeat();
    (unsubscribe ?? []).forEach((off) => { if (typeof off === 'function') off(); });
    unsubscribe = null;
  }

  return {
    start() {
      if (adopt) {
        session = { id: adopt.id, token: adopt.token, heartbeatSeconds: adopt.heartbeatSeconds, agentArn: adopt.agentArn,
          ...(adopt.renewAt != null ? { expiresAt: adopt.expiresAt, renewAt: adopt.renewAt } : {}) };
        knownStatus = adopt.status;
        otherSessions = adopt.otherSessions ?? 0;
        const started = startHeartbeatFor(session);
        setState(started ? STATE.OPEN : STATE.DEGRADED, { sessionId: session.id, reason: 'adopted', otherSessions });
      }
      unsubscribe = [adapter.onAgent(agentReported), adapter.onStatusChange?.(statusChanged)];
    },
    stop() {
      stopped = true;
      stopHeartbeat();
    },
    /**
     * Ends this client: closes the open session with the close beacon (as a tab close does: the server sets
     * Offline when it was the agent's last CCP), stops heartbeats and retries and leaves the adapter.
     */
    destroy() {
      if (unsubscribe === null) return;
      const closed = session ? closeSession('destroy') : null;
      end();
      setState(STATE.CLOSED, { reason: 'destroyed', ...(closed ? { sessionId: closed.current.id, beaconQueued: closed.queued } : {}) });
    },
    /** Ends this client but leaves its session open, for the next client of this tab to adopt (createBackstop's). */
    handOver() {
      const handed = session ? { ...session, status: knownStatus, otherSessions } : null;
      session = null;
      end();
      return handed;
    },
    register,
    onPageHide,
    onPageShow,
    get state() { return state; },
    get sessionId() { return session?.id ?? null; },
    /** The agent's other open CCP sessions (any browser or device), as the server last counted them. */
    get otherSessions() { return otherSessions; },
  };
}

/**
 * Heartbeats from a dedicated Web Worker: Chrome throttles a hidden window's timers to once a minute after
 * five minutes, which would starve a 20 s heartbeat; a worker's timers keep their cadence. When the worker
 * cannot start (blocked by a Content-Security-Policy, missing file, no Worker) or dies, heartbeats go on from
 * the page's own timers (throttled when hidden, yet still inside the stale limit) and `onFallback` says so.
 *
 * @param {Function|string|URL} worker  () => Worker, or the worker script's URL
 */
export function workerHeartbeat(worker, { fetch = globalThis.fetch?.bind(globalThis), setTimeout: later = globalThis.setTimeout.bind(globalThis),
  clearTimeout: cancel = globalThis.clearTimeout.bind(globalThis), random = Math.random } = {}) {
  const create = typeof worker === 'function' ? worker : () => new Worker(worker, { type: 'module' });
  return ({ url, body, intervalMs, onResult, onFallback = () => {} }) => {
    let current = body;
    let stopPageBeats = null;
    let instance = null;
    let stopped = false;
    const fallBack = (why) => {
      if (stopped || stopPageBeats !== null) return;
      instance?.terminate();
      instance = null;
      // The page's own beats: the same request, cadence and report as the worker's.
      const crowd = {};
      stopPageBeats = beatLoop(() => postHeartbeat(fetch, url, current, Math.round(intervalMs / 3), crowd).then((beat) => {
        onResult(beat.status, beat.otherSessions, beat.error);
        return beat.status;
      }), intervalMs, { setTimeout: later, clearTimeout: cancel, random });
      onFallback(why);
    };
    try {
      instance = create();
      instance.onmessage = (event) => {
        if (event.data?.type === 'result') onResult(event.data.status, event.data.otherSessions, event.data.error);
      };
      instance.onerror = (event) => {
        event?.preventDefault?.();
        fallBack(`the heartbeat worker failed${event?.message ? `: ${event.message}` : ''}; heartbeats run on the page's timers`);
      };
      instance.postMessage({ type: 'start', url, body, intervalMs });
    } catch (error) {
      fallBack(`the heartbeat worker could not start (${error?.message ?? error}); heartbeats run on the page's timers`);
    }
    return {
      update(next) {
        current = next;
        instance?.postMessage({ type: 'update', body: next });
      },
      stop() {
        stopped = true;
        if (instance) {
          instance.postMessage({ type: 'stop' });
          instance.terminate();
        }
        stopPageBeats?.();
      },
    };
  };
}

/**
 * An interval driven by a dedicated worker's timer (tick-worker.js), for pings that must keep their cadence in
 * a hidden tab. Falls back to the page's setInterval when no worker can start. Returns `{stop()}`.
 */
export function workerInterval(createWorker, fallback = globalThis.setInterval.bind(globalThis),
  cancel = globalThis.clearInterval.bind(globalThis)) {
  return (fn, ms) => {
    let worker = null;
    let interval = null;
    const fallBack = () => { worker?.terminate(); worker = null; interval = fallback(fn, ms); };
    try {
      worker = createWorker();
      worker.onmessage = () => fn();
      worker.onerror = (event) => { event?.preventDefault?.(); fallBack(); };
      worker.postMessage({ type: 'start', ms });
    } catch {
      fallBack();
    }
    return { stop() { worker?.terminate(); worker = null; if (interval !== null) cancel(interval); } };
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
  const offs = [adapter.onStatusChange?.(update), adapter.onAgent?.(update)];
  return {
    update,
    get guarding() { return guarding; },
    /** Removes the guard and its listeners. */
    stop() {
      offs.forEach((off) => { if (typeof off === 'function') off(); });
      win.removeEventListener('beforeunload', guard);
      guarding = false;
    },
  };
}

/**
 * The other CCP tabs of this browser, over a BroadcastChannel: each tab says hello when it starts and bye on
 * pagehide; the others answer hello. A crashed tab never says bye, so a peer counts only while it answered
 * within the last `maxSilenceMs` (tabs ping each other every `pingMs`). In a page, pass a worker-driven
 * `setInterval` (workerInterval): a hidden tab's own timers fire once a minute, and its pings would fall
 * silent past `maxSilenceMs` although the tab is open.
 */
export function tabPeers({ channel, agentArn, now = () => Date.now(), setInterval: every = globalThis.setInterval.bind(globalThis),
  clearInterval: cancel = globalThis.clearInterval.bind(globalThis), pingMs = 10000, maxSilenceMs = 30000,
  id = Math.random().toString(36).slice(2) }) {
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
  const pings = every(() => send('here'), pingMs);
  return {
    hello() { send('hello'); },
    bye() { send('bye'); },
    /** Says bye, stops the pings (workerInterval's handle, or a setInterval id) and closes the channel. */
    close() {
      send('bye');
      if (typeof pings?.stop === 'function') pings.stop();
      else cancel(pings);
      channel.onmessage = null;
      channel.close?.();
    },
    othersOpen() {
      const since = now() - maxSilenceMs;
      return [...seen.values()].some((at) => at >= since);
    },
  };
}

/** Wires the backstop to the page's lifecycle events; returns a function that unwires it. */
export function attachToPage(backstop, win = window) {
  const hide = (event) => backstop.onPageHide(event);
  const show = (event) => backstop.onPageShow(event);
  win.addEventListener('pagehide', hide);
  win.addEventListener('pageshow', show);
  return () => {
    win.removeEventListener('pagehide', hide);
    win.removeEventListener('pageshow', show);
  };
}
