// One heartbeat request and what its answer says, and the cadence of beats: the same from the worker and from
// the page's fallback timers. A "simple" text/plain request (no CORS preflight), kept alive past a closing page,
// without cookies.

/**
 * Posts the heartbeat; resolves to {status, otherSessions} (status 0: the network failed or the answer took longer
 * than `timeoutMs`, never a rejection), and for a 410 the server's `error` too: `session_expired` (the session
 * reached its maximum age: register again, nothing happened to the agent) or `session_closed`. Beats are chained, so a request that hangs must not stop them.
 *
 * `crowd` is the loop's memory of throttling: after a 429 (API Gateway's route throttle, which a flood of other
 * people's requests can exhaust), the next beats carry `crowdedMsAgo` (how long ago the last 429 was) until one
 * lands, so the server learns that this page was kept out, not gone: a pulsed flood can hide from any count the
 * server keeps, never from the pages it throttles. A network failure is not a 429: it says nothing about a flood.
 */
export async function postHeartbeat(fetch, url, body, timeoutMs, crowd = {}, now = Date.now) {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify(crowd.throttledAt === undefined ? body
        : { ...body, crowdedMsAgo: Math.max(0, Math.round(now() - crowd.throttledAt)) }),
      credentials: 'omit',
      keepalive: true,
      ...(timeoutMs && typeof AbortSignal?.timeout === 'function' ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
    });
    const otherSessions = response.status === 200 ? (await response.json().catch(() => ({}))).otherSessions : undefined;
    if (response.status === 410) {
      const error = (await response.json?.().catch(() => null))?.error;
      if (typeof error === 'string') return { status: 410, otherSessions, error };
    }
    // API Gateway's throttle, not the server's own "too many heartbeats for this session" (a reloaded worker).
    if (response.status === 429 && !(await isOwnRefusal(response))) crowd.throttledAt = now();
    else if (response.status >= 200 && response.status < 300) delete crowd.throttledAt;
    return { status: response.status, otherSessions };
  } catch {
    return { status: 0, otherSessions: undefined }; // network down: the next beat tries again; the server's stale rule decides
  }
}

/** Whether a 429 is the backstop's own per-session refusal (`too_many_heartbeats`), not a throttle. */
async function isOwnRefusal(response) {
  const body = await response.json?.().catch(() => null);
  return body?.error === 'too_many_heartbeats';
}

/**
 * How long after a failed beat (network down, 5xx, 429) the next one comes: a third of the period, jittered
 * (0.27 to 0.4 of it, so a contact centre's pages do not retry in step after an outage, and never closer than the
 * quarter period the server refuses as too frequent). A lost beat then costs a third of the stale limit's
 * slack, not a whole period: with 30 s beats and a 75 s limit, a network that is down for up to about 40 s
 * after a beat that landed loses nothing.
 */
export function retryAfterFailureMs(intervalMs, random = Math.random) {
  return Math.round((intervalMs / 3) * (0.8 + 0.4 * random()));
}

/**
 * Calls `beat` (which resolves to the answer's status) every `intervalMs`, and sooner after a
 * beat that failed; returns stop(). Each beat is timed from the end of the one before, so beats never overlap.
 */
export function beatLoop(beat, intervalMs, { setTimeout: later = globalThis.setTimeout.bind(globalThis),
  clearTimeout: cancel = globalThis.clearTimeout.bind(globalThis), random = Math.random } = {}) {
  let timer = null;
  let stopped = false;
  const schedule = (ms) => { timer = later(run, ms); };
  async function run() {
    timer = null;
    const status = await beat();
    if (!stopped) schedule(status >= 200 && status < 300 ? intervalMs : retryAfterFailureMs(intervalMs, random));
  }
  schedule(intervalMs);
  return () => {
    stopped = true;
    if (timer !== null) cancel(timer);
  };
}
