// Dedicated worker: posts a heartbeat every intervalMs and reports each answer's status (and the agent's other
// open sessions the server counts) to the page.
// Timers here are not subject to the hidden-window throttling that slows the page's own timers.
import { postHeartbeat } from './heartbeat-request.js';

let timer = null;
let target = null;

async function beat() {
  if (!target) return;
  const { status, otherSessions } = await postHeartbeat(fetch, target.url, target.body);
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
