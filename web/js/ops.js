// The local ops view: every demo agent's Connect status, their sessions, transitions and the latest events,
// refreshed every second from the local stack's /_local/ops.json.
const $ = (selector) => document.querySelector(selector);

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '—';
  if (className) td.className = className;
  return td;
}

function ago(ms, now) {
  if (!ms) return '—';
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  return seconds < 90 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
}

function badge(text, kind) {
  const span = document.createElement('span');
  span.className = `badge ${kind}`;
  span.textContent = text;
  return span;
}

function render(state) {
  const rows = state.agents.map((agent) => {
    const tr = document.createElement('tr');
    tr.dataset.userId = agent.userId;
    const name = cell('');
    name.append(Object.assign(document.createElement('strong'), { textContent: agent.name }),
      Object.assign(document.createElement('small'), { textContent: ` ${agent.userId}` }));
    const status = cell('');
    status.append(badge(agent.statusName, agent.statusType.toLowerCase()));
    if (agent.nextStatusName) status.append(' ', badge(`next: ${agent.nextStatusName}`, 'next'));
    if (agent.onContact) status.append(' ', badge('on contact', 'contact'));
    const open = agent.sessions.find((s) => s.state === 'OPEN');
    const closed = agent.sessions.find((s) => s.state === 'CLOSED');
    // The close answered at once; the transition says what became of it since (done after a retry, failed...).
    const outcome = closed && (state.transitions.find((t) => t.sessionId === closed.sessionId)?.state?.toLowerCase()
      ?? closed.closeOutcome);
    const link = cell('');
    link.append(Object.assign(document.createElement('a'), { href: `/ccp.html?agent=${encodeURIComponent(agent.userId)}`, textContent: 'sign in', target: '_blank' }));
    tr.append(name, status, cell(String(agent.openSessions), agent.openSessions > 0 ? 'live' : ''),
      cell(open ? ago(open.lastSeen, state.now) : '—'),
      cell(closed ? `${closed.closeReason} → ${outcome}` : '—'), link);
    return tr;
  });
  $('#agents tbody').replaceChildren(...rows);

  const transitions = state.transitions.map((t) => {
    const tr = document.createElement('tr');
    const stateCell = cell('');
    stateCell.append(badge(t.state, t.state.toLowerCase()));
    tr.append(cell(t.userId), stateCell, cell(t.reason), cell(String(t.attempts ?? 0)), cell(t.lastError));
    return tr;
  });
  $('#transitions tbody').replaceChildren(...(transitions.length ? transitions
    : [Object.assign(document.createElement('tr'), { innerHTML: '<td colspan="5" class="empty">No transitions yet: close a CCP tab.</td>' })]));

  const events = state.events.map((e) => {
    const li = document.createElement('li');
    li.append(badge(e.type, e.type === 'Agent Offline Failed' ? 'failed' : 'done'), ` ${e.userId} `,
      Object.assign(document.createElement('small'), { textContent: [e.reason, e.deferred ? 'deferred' : null, e.lastError, e.time].filter(Boolean).join(' · ') }));
    return li;
  });
  $('#events').replaceChildren(...(events.length ? events
    : [Object.assign(document.createElement('li'), { className: 'empty', textContent: 'No events yet.' })]));

  const online = state.agents.filter((a) => a.statusType !== 'OFFLINE').length;
  const live = state.agents.reduce((n, a) => n + a.openSessions, 0);
  const pending = state.transitions.filter((t) => t.state === 'PENDING').length;
  $('#summary').textContent = `Instance ${state.instanceId} · ${online} agents not Offline · ${live} open sessions · ${pending} pending transitions`;
  document.body.dataset.ops = 'ready';
}

async function refresh() {
  try {
    const state = await fetch('/_local/ops.json', { cache: 'no-store' }).then((r) => r.json());
    render(state);
  } catch (error) {
    $('#summary').textContent = `Local stack unreachable (${error.message}); retrying…`;
    document.body.dataset.ops = 'error';
  }
}

refresh();
setInterval(refresh, 1000);
