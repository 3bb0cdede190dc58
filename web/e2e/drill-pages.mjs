// The outage drill's pages (local/.../it/HeartbeatOutageDrillTest): many sessions beating through the client's own
// heartbeat request and cadence (client/heartbeat-request.js: the worker's and the page fallback's), so the drill
// shows what real pages do, crowdedMsAgo after a 429 included. Reads one JSON command a line on stdin:
//   {"op":"open","id":"<sessionId>","token":"<token>","offsetMs":<n>}   start beating after offsetMs
//   {"op":"kill","id":"<sessionId>"}                                     the page dies: its beats stop, no beacon
// Usage: node web/e2e/drill-pages.mjs <frontUrl> <heartbeatMs>; ends when stdin closes.
import { createInterface } from 'node:readline';
import { beatLoop, postHeartbeat } from '../client/heartbeat-request.js';

const [base, intervalMs] = [process.argv[2].replace(/\/$/, ''), Number(process.argv[3])];
const stops = new Map();

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line);
  if (command.op === 'open') {
    const url = `${base}/sessions/${command.id}/heartbeat`;
    const crowd = {};
    const beat = () => postHeartbeat(fetch, url, { token: command.token }, Math.round(intervalMs / 3), crowd)
      .then((answer) => answer.status);
    // The register counts as the session's first sign of life; the client's first beat comes a period after it.
    const first = setTimeout(() => stops.set(command.id, beatLoop(beat, intervalMs)), command.offsetMs);
    stops.set(command.id, () => clearTimeout(first));
  } else if (command.op === 'kill') {
    stops.get(command.id)?.();
    stops.delete(command.id);
  }
}).on('close', () => {
  stops.forEach((stop) => stop());
  process.exit(0);
});
