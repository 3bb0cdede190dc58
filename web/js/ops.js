// The local ops view: renders /_local/ops.json every second (ops-view.js draws it).
import { renderOps } from './ops-view.js';

const $ = (selector) => document.querySelector(selector);

async function refresh() {
  try {
    const state = await fetch('/_local/ops.json', { cache: 'no-store' }).then((r) => r.json());
    renderOps(state);
  } catch (error) {
    $('#summary').textContent = `Local stack unreachable (${error.message}); retrying…`;
    document.body.dataset.ops = 'error';
  }
}

refresh();
setInterval(refresh, 1000);
