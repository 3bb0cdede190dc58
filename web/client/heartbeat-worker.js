// Dedicated worker: posts a heartbeat every intervalMs (sooner after a failed one) and reports each answer's
// status (and the agent's other open sessions the server counts) to the page.
// Timers here are not subject to the hidden-window throttling that slows the page's own timers.
import { postHeartbeat, beatLoop } from './heartbeat-request.js';

let stopBeats = null;
let target = null;

async function beat() {
  if (!target) return 0;
  const { status, otherSessions, error } = await postHeartbeat(fetch, target.url, target.body, target.timeoutMs, target.crowd);
  self.postMessage({ type: 'result', status, otherSessions, ...(error ? { error } : {}), at: Date.now() });
  return status;
}

self.onmessage = (event) => {
  const message = event.data || {};
  if (message.type === 'start') {
    target = { url: message.url, body: message.body, timeoutMs: Math.round(message.intervalMs / 3), crowd: {} };
    stopBeats?.();
    stopBeats = beatLoop(beat, message.intervalMs);
  } else if (message.type === 'update' && target) {
    target.body = message.body;
  } else if (message.type === 'stop') {
    stopBeats?.();
    stopBeats = null;
    target = null;
  }
};
