// The local ops view's rendering: every demo agent's Connect status, their sessions, transitions and the latest
// events, from one /_local/ops.json state, onto the document it is given (node's tests use linkedom).

function cell(doc, text, className) {
  const td = doc.createElement('td');
  td.textContent = text ?? '—';
  if (className) td.className = className;
  return td;
}

function ago(ms, now) {
  if (!ms) return '—';
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  return seconds < 90 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
}

function badge(doc, text, kind) {
  const span = doc.createElement('span');
  span.className = `badge ${kind}`;
  span.textContent = text;
  return span;
}

export function renderOps(state, doc = document) {
  const $ = (selector) => doc.querySelector(selector);
  const rows = state.agents.map((agent) => {
    const tr = doc.createElement('tr');
    tr.dataset.userId = agent.userId;
    const name = cell(doc, '');
    name.append(Object.assign(doc.createElement('strong'), { textContent: agent.name }),
      Object.assign(doc.createElement('small'), { textContent: ` ${agent.userId}` }));
    const status = cell(doc, '');
    status.append(badge(doc, agent.statusName, agent.statusType.toLowerCase()));
    if (agent.nextStatusName) status.append(' ', badge(doc, `next: ${agent.nextStatusName}`, 'next'));
    if (agent.onContact) status.append(' ', badge(doc, 'on contact', 'contact'));
    const open = agent.sessions.find((s) => s.state === 'OPEN');
    const closed = agent.sessions.find((s) => s.state === 'CLOSED');
    // The close answered at once; the transition says what became of it since (done after a retry, failed...).
    const outcome = closed && (state.transitions.find((t) => t.sessionId === closed.sessionId)?.state?.toLowerCase()
      ?? closed.closeOutcome);
    const link = cell(doc, '');
    link.append(Object.assign(doc.createElement('a'), { href: `/ccp.html?agent=${encodeURIComponent(agent.userId)}`, textContent: 'sign in', target: '_blank' }));
    tr.append(name, status, cell(doc, String(agent.openSessions), agent.openSessions > 0 ? 'live' : ''),
      cell(doc, open ? ago(open.lastSeen, state.now) : '—'),
      cell(doc, closed ? `${closed.closeReason} → ${outcome}` : '—'), link);
    return tr;
  });
  $('#agents tbody').replaceChildren(...rows);

  const transitions = state.transitions.map((t) => {
    const tr = doc.createElement('tr');
    const stateCell = cell(doc, '');
    stateCell.append(badge(doc, t.state, t.state.toLowerCase()));
    tr.append(cell(doc, t.userId), stateCell, cell(doc, t.reason), cell(doc, String(t.attempts ?? 0)), cell(doc, t.lastError));
    return tr;
  });
  $('#transitions tbody').replaceChildren(...(transitions.length ? transitions
    : [Object.assign(doc.createElement('tr'), { innerHTML: '<td colspan="5" class="empty">No transitions yet: close a CCP tab.</td>' })]));

  const events = state.events.map((e) => {
    const li = doc.createElement('li');
    li.append(badge(doc, e.type, e.type === 'Agent Offline Failed' ? 'failed' : 'done'), ` ${e.userId} `,
      Object.assign(doc.createElement('small'), { textContent: [e.reason, e.deferred ? 'deferred' : null, e.lastError, e.time].filter(Boolean).join(' · ') }));
    return li;
  });
  $('#events').replaceChildren(...(events.length ? events
    : [Object.assign(doc.createElement('li'), { className: 'empty', textContent: 'No events yet.' })]));

  const online = state.agents.filter((a) => a.statusType !== 'OFFLINE').length;
  const live = state.agents.reduce((n, a) => n + a.openSessions, 0);
  const pending = state.transitions.filter((t) => t.state === 'PENDING').length;
  $('#summary').textContent = `Instance ${state.instanceId} · ${online} agents not Offline · ${live} open sessions · ${pending} pending transitions`;
  doc.body.dataset.ops = 'ready';
}
