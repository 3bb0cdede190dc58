// One heartbeat request and what its answer says: the same from the worker and from the page's fallback timers.
// A "simple" text/plain request (no CORS preflight), kept alive past a closing page, without cookies.

/** Posts the heartbeat; resolves to {status, otherSessions} (status 0: the network failed, never a rejection). */
export async function postHeartbeat(fetch, url, body) {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify(body),
      credentials: 'omit',
      keepalive: true,
    });
    const otherSessions = response.status === 200 ? (await response.json().catch(() => ({}))).otherSessions : undefined;
    return { status: response.status, otherSessions };
  } catch {
    return { status: 0, otherSessions: undefined }; // network down: the next beat tries again; the server's stale rule decides
  }
}
