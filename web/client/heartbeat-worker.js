// Dedicated worker: posts a heartbeat every intervalMs and reports each answer's status (and the agent's other
// open sessions the server counts) to the page.
// Timers here are not subject to the hidden-window throttling that slows the page's own timers.
let timer = null;
let target = null;

async function beat() {
  if (!target) return;
  let status = 0;
  let otherSessions;
  try {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify(target.body),
      credentials: 'omit',
      keepalive: true,
    });
    status = response.status;
    if (status === 200) otherSessions = (await response.json().catch(() => ({}))).otherSessions;
  } catch {
    status = 0; // network down: the next beat tries again; the server's stale rule decides
  }
  self.postMessage({ type: 'result', status, otherSessions, at: Date.now() });
}

self.onmessage = (event) => {
  const message = event.data || {};
  if (message.type === 'start') {
    target = { url: message.url, body: message.body };
    clearInterval(timer);
    timer = setInterval(beat, message.intervalMs);
  } else if (message.type === 'update' && target) {
    target.body = message.body;
  } else if (message.type === 'stop') {
    clearInterval(timer);
    timer = null;
    target = null;
  }
};
