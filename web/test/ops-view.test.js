// The local ops view on the real ops.html, parsed by linkedom: one ops.json state in, the tables and summary out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseHTML } from 'linkedom';
import { renderOps } from '../js/ops-view.js';

const HTML = readFileSync(new URL('../ops.html', import.meta.url), 'utf8');
const NOW = Date.parse('2026-11-29T14:00:00Z');

function render(state) {
  const { document } = parseHTML(HTML);
  renderOps({ instanceId: 'demo', now: NOW, agents: [], transitions: [], events: [], ...state }, document);
  const rows = (selector) => [...document.querySelectorAll(`${selector} tbody tr`)];
  const cells = (tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent);
  return { document, rows, cells };
}

const ada = {
  userId: 'demo-ada', name: 'Ada Lovelace', statusName: 'Available', statusType: 'ROUTABLE', nextStatusName: null, onContact: false,
  openSessions: 1, sessions: [{ sessionId: 'S1', state: 'OPEN', lastSeen: NOW - 12_000 }],
};
const alan = {
  userId: 'demo-alan', name: 'Alan Turing', statusName: 'Offline', statusType: 'OFFLINE', nextStatusName: 'Lunch', onContact: true,
  openSessions: 0, sessions: [{ sessionId: 'S2', state: 'CLOSED', lastSeen: NOW - 600_000, closeReason: 'tab-closed', closeOutcome: 'pending' }],
};

test('agents_should_showStatusSessionsLastHeartbeatAndWhatTheLastCloseBecame', () => {
  const { document, rows, cells } = render({
    agents: [ada, alan],
    transitions: [{ sessionId: 'S2', userId: 'demo-alan', state: 'DONE', reason: 'tab-closed', attempts: 2 }],
  });
  const [first, second] = rows('#agents');
  assert.equal(first.dataset.userId, 'demo-ada');
  assert.deepEqual(cells(first), ['Ada Lovelace demo-ada', 'Available', '1', '12 s ago', '—', 'sign in']);
  assert.equal(first.querySelectorAll('td')[2].className, 'live');
  assert.equal(first.querySelector('.badge').className, 'badge routable');
  const link = first.querySelector('a');
  assert.equal(link.getAttribute('href'), '/ccp.html?agent=demo-ada');
  assert.equal(link.getAttribute('target'), '_blank');

  assert.deepEqual(cells(second), ['Alan Turing demo-alan', 'Offline next: Lunch on contact', '0', '—', 'tab-closed → done', 'sign in'],
    'the transition says what became of the close since (done after a retry), not the close\'s first answer');
  assert.equal(second.querySelectorAll('td')[2].className, '');
  assert.deepEqual([...second.querySelectorAll('.badge')].map((b) => b.className), ['badge offline', 'badge next', 'badge contact']);
  assert.equal(document.body.dataset.ops, 'ready');
});

test('lastClose_should_fallBackToTheClosesOwnAnswer_whenNoTransitionIsKnown', () => {
  const { rows, cells } = render({ agents: [alan] });
  assert.equal(cells(rows('#agents')[0])[4], 'tab-closed → pending');
});

test('lastHeartbeat_should_readInSecondsUpTo90_thenInMinutes', () => {
  const at = (ms) => render({ agents: [{ ...ada, sessions: [{ sessionId: 'S', state: 'OPEN', lastSeen: ms }] }] });
  const seen = (ms) => { const { rows, cells } = at(ms); return cells(rows('#agents')[0])[3]; };
  assert.equal(seen(NOW), '0 s ago');
  assert.equal(seen(NOW + 5000), '0 s ago', 'a clock a little ahead is not the future');
  assert.equal(seen(NOW - 89_000), '89 s ago');
  assert.equal(seen(NOW - 90_000), '2 min ago');
  assert.equal(seen(NOW - 600_000), '10 min ago');
  assert.equal(seen(0), '—');
});

test('transitions_should_listStateReasonAttemptsAndError_orSayThereAreNone', () => {
  const { rows, cells } = render({
    transitions: [{ sessionId: 'S', userId: 'demo-ada', state: 'FAILED', reason: 'retry', attempts: 5, lastError: 'ThrottlingException' },
      { sessionId: 'T', userId: 'demo-alan', state: 'PENDING', reason: 'tab-closed' }],
  });
  const [failed, pending] = rows('#transitions');
  assert.deepEqual(cells(failed), ['demo-ada', 'FAILED', 'retry', '5', 'ThrottlingException']);
  assert.equal(failed.querySelector('.badge').className, 'badge failed');
  assert.deepEqual(cells(pending), ['demo-alan', 'PENDING', 'tab-closed', '0', '—']);

  const none = render({});
  const [empty] = none.rows('#transitions');
  assert.equal(empty.textContent, 'No transitions yet: close a CCP tab.');
  assert.equal(empty.querySelector('td').getAttribute('colspan'), '5');
});

test('events_should_listTheLatest_failuresMarked_orSayThereAreNone', () => {
  const { document } = render({
    events: [
      { type: 'Agent Offline Failed', userId: 'demo-ada', reason: 'retry', lastError: 'AccessDenied', time: '14:00:01' },
      { type: 'Agent Set Offline', userId: 'demo-alan', reason: 'tab-closed', deferred: true, time: '13:59:59' },
    ],
  });
  const items = [...document.querySelectorAll('#events li')];
  assert.deepEqual(items.map((li) => li.textContent),
    ['Agent Offline Failed demo-ada retry · AccessDenied · 14:00:01', 'Agent Set Offline demo-alan tab-closed · deferred · 13:59:59']);
  assert.deepEqual(items.map((li) => li.querySelector('.badge').className), ['badge failed', 'badge done']);

  const none = render({}).document.querySelectorAll('#events li');
  assert.equal(none.length, 1);
  assert.equal(none[0].className, 'empty');
  assert.equal(none[0].textContent, 'No events yet.');
});

test('summary_should_countAgentsNotOffline_openSessions_andPendingTransitions', () => {
  const { document } = render({
    agents: [ada, alan, { ...ada, userId: 'demo-grace', statusType: 'NOT_ROUTABLE', openSessions: 2 }],
    transitions: [{ sessionId: 'a', state: 'PENDING' }, { sessionId: 'b', state: 'PENDING' }, { sessionId: 'c', state: 'DONE' }],
  });
  assert.equal(document.querySelector('#summary').textContent,
    'Instance demo · 2 agents not Offline · 3 open sessions · 2 pending transitions');
});
