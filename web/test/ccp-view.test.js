// The CCP page's view on the real ccp.html, parsed by linkedom: what the agent reads in each state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseHTML } from 'linkedom';
import { STATE } from '../client/index.js';
import { createCcpView } from '../js/ccp-view.js';

const HTML = readFileSync(new URL('../ccp.html', import.meta.url), 'utf8');
const AT = new Date(2026, 10, 29, 14, 5, 0);

function page() {
  const { document } = parseHTML(HTML);
  const view = createCcpView(document, { now: () => AT });
  const text = (selector) => document.querySelector(selector).textContent;
  const hidden = (selector) => document.querySelector(selector).hasAttribute('hidden') || document.querySelector(selector).hidden === true;
  return { document, view, text, hidden };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('header_should_sayWhatTheBackstopDoesForTheAgent_inEachState', () => {
  const { document, view, text } = page();
  const says = (state, detail) => { view.setBackstopState(state, detail); return text('#backstop-state'); };

  assert.equal(says(STATE.IDLE), 'Waiting for the agent…');
  assert.equal(says(STATE.REGISTERING, { reason: 'agent' }), 'Connecting the backstop…');
  assert.equal(says(STATE.OPEN, { otherSessions: 0 }), 'Protected: closing this tab sets you Offline.');
  assert.equal(document.body.dataset.otherSessions, '0');
  assert.equal(says(STATE.OPEN, { otherSessions: 1 }),
    'Protected: you have 1 other CCP open, so closing this one keeps your status; closing the last sets you Offline.');
  assert.match(says(STATE.OPEN, { otherSessions: 2 }), /you have 2 other CCPs open/);
  assert.equal(document.body.dataset.otherSessions, '2');
  assert.equal(says(STATE.OPEN), 'Protected: closing this tab sets you Offline.', 'no count: alone');
  assert.equal(says(STATE.DEGRADED, { status: 0, error: 'network' }), 'Backstop unreachable: not protected right now.');
  assert.equal(document.body.dataset.otherSessions, '0', 'only an open session reports others');
  assert.equal(says(STATE.CLOSED, {}), 'Session closed.');
  assert.equal(says(STATE.ERROR, { message: 'this backstop serves another Connect instance' }),
    'Backstop problem: this backstop serves another Connect instance');
  assert.equal(says(STATE.ERROR, { retrying: true }), 'Backstop unreachable, retrying…');
  assert.equal(says('something-new'), 'something-new');
  assert.equal(document.body.dataset.backstop, 'something-new');
});

test('serverClose_should_raiseTheBanner_andTurnIntoANoticeWithTheTime_onceReconnected', () => {
  const { view, text, hidden } = page();
  view.setBackstopState(STATE.CLOSED, { byServer: true, status: 410 });
  assert.equal(hidden('#banner'), false);
  assert.match(text('#banner'), /lost contact with the backstop for too long .* so you were set Offline/);

  view.setBackstopState(STATE.REGISTERING, { reason: 'server-closed' });
  assert.equal(hidden('#banner'), false, 'still not protected while registering');
  view.setBackstopState(STATE.OPEN, { reason: 'server-closed', otherSessions: 0 });

  assert.equal(hidden('#banner'), true);
  assert.equal(text('#banner'), '');
  assert.equal(hidden('#notice'), false);
  assert.equal(text('#notice'), `Reconnected. You were set Offline at ${AT.toLocaleTimeString()} while this CCP was out of contact: choose your status.`);

  view.setBackstopState(STATE.OPEN, { otherSessions: 1 });
  assert.match(text('#notice'), /^Reconnected/, 'said once, kept until something else is said');
});

test('lostSession_should_sayReconnecting_andClearOnceOpen_withoutClaimingAnOffline', () => {
  const { view, text, hidden } = page();
  for (const status of [404, 403]) {
    view.setBackstopState(STATE.CLOSED, { byServer: true, status });
    assert.equal(text('#banner'), 'This CCP was signed out of the backstop; reconnecting.');
    view.setBackstopState(STATE.OPEN, { reason: 'session-lost' });
    assert.equal(hidden('#banner'), true);
    assert.equal(hidden('#notice'), true, 'no Offline happened: nothing to tell');
  }
});

test('closedByThePage_should_raiseNoBanner', () => {
  const { view, hidden } = page();
  view.setBackstopState(STATE.CLOSED, { sessionId: 'S', beaconQueued: true });
  assert.equal(hidden('#banner'), true);
});

test('failingHeartbeats_should_warnThatClosingMayNotSetOffline_andClearWhenTheyRecover', () => {
  const { view, text, hidden } = page();
  view.setBackstopState(STATE.DEGRADED, { status: 503, error: 'heartbeat-refused' });
  assert.equal(text('#banner'), 'The backstop is not answering this CCP right now: closing it may not set you Offline. Retrying…');
  view.setBackstopState(STATE.OPEN, { otherSessions: 0 });
  assert.equal(hidden('#banner'), false, 'a count change is no recovery');
  view.setBackstopState(STATE.OPEN, { recovered: true, otherSessions: 0 });
  assert.equal(hidden('#banner'), true);

  view.setBackstopState(STATE.DEGRADED, { error: 'heartbeat-failed' });
  assert.match(text('#banner'), /cannot keep its backstop session alive \(heartbeats cannot run\).*Reload the page\./);
});

test('expiredSignIn_should_offerSignInAgain_whichRunsTheFlow_andSaysSoWhenItFails', async () => {
  const { document, view, text } = page();
  view.setBackstopState(STATE.ERROR, { error: 'signed-out', status: 401 });
  assert.equal(document.querySelector('#banner button'), null, 'no sign-in flow: nothing to offer');

  let runs = 0;
  view.useSignIn({ signIn: async () => { runs += 1; throw new Error('the identity provider is down'); } });
  for (const error of ['signed-out', 'unauthenticated']) {
    view.setBackstopState(STATE.ERROR, { error, status: 401 });
    assert.match(text('#banner'), /^Your sign-in has expired, so this CCP is not protected/);
    const button = document.querySelector('#banner button');
    assert.equal(button.textContent, 'Sign in again');
    assert.equal(button.getAttribute('type'), 'button');
  }
  view.setBackstopState(STATE.ERROR, { error: 'identity_mismatch', status: 403, message: 'not you' });
  assert.equal(text('#backstop-state'), 'Backstop problem: not you');

  view.setBackstopState(STATE.ERROR, { error: 'signed-out', status: 401 });
  document.querySelector('#banner button').dispatchEvent(new document.defaultView.Event('click'));
  await settle();
  assert.equal(runs, 1);
  assert.equal(document.body.dataset.signIn, 'failed');
  assert.equal(document.body.dataset.backstop, 'error');
  assert.equal(text('#backstop-state'), 'Not signed in: not protected.');
  assert.match(text('#banner'), /^Sign-in failed: the identity provider is down\. The backstop does not protect this tab until you sign in/);
});

test('failedRenewal_should_tellTheAgentToSignInAgain_whileStillProtected_andGoAwayOnceRenewed', () => {
  const { document, view, text, hidden } = page();
  let runs = 0;
  view.useSignIn({ signIn: async () => { runs += 1; } });
  view.setBackstopState(STATE.OPEN, { sessionId: 'S', otherSessions: 0, renewal: 'failed', expiresAt: '2026-12-03T17:40:00Z', error: 'signed-out' });

  assert.equal(document.body.dataset.backstop, 'open', 'not an error: the session still protects the tab');
  assert.equal(text('#backstop-state'), 'Protected: closing this tab sets you Offline.');
  assert.equal(hidden('#banner'), false);
  assert.match(text('#banner'), new RegExp(`^Your sign-in could not be renewed: this CCP stays protected until ${new Date('2026-12-03T17:40:00Z').toLocaleTimeString()}\\. Sign in again to stay protected after that\\.`));
  document.querySelector('#banner button').dispatchEvent(new document.defaultView.Event('click'));
  assert.equal(runs, 1);

  view.setBackstopState(STATE.OPEN, { sessionId: 'S', otherSessions: 0, renewal: 'failed', expiresAt: '2026-12-03T17:40:00Z', error: 'network' });
  assert.match(text('#banner'), /^The backstop session could not be renewed \(network\): this CCP stays protected until .*; retrying\./);

  view.setBackstopState(STATE.OPEN, { sessionId: 'N', otherSessions: 0, reason: 'renewed' });
  assert.equal(hidden('#banner'), true, 'renewed: the notice goes');
});

test('restore_should_tellTheAgentWhatBecameOfTheirStatus', () => {
  const { document, view, text, hidden } = page();
  const cases = {
    restored: 'Your status before the reload (Lunch) was restored.',
    'not-offline': 'Your status was not restored: it changed since the reload (it was Lunch).',
    'unknown-status': 'Your status before the reload (Lunch) no longer exists; choose one.',
    failed: 'Your status before the reload (Lunch) could not be restored; set it yourself.',
  };
  for (const [outcome, words] of Object.entries(cases)) {
    view.showRestore({ outcome, status: { name: 'Lunch' } });
    assert.equal(document.body.dataset.restore, outcome);
    assert.equal(text('#notice'), words);
    assert.equal(hidden('#notice'), false);
  }
  view.showRestore({ outcome: 'unheard-of', status: { name: 'Lunch' } });
  assert.equal(hidden('#notice'), true);
});

function adapter({ contact = false, next = null, fail = null } = {}) {
  const statuses = [
    { name: 'Available', arn: 'arn:x/agent-state/avail', type: 'routable' },
    { name: 'Lunch', arn: 'arn:x/agent-state/lunch', type: 'not_routable' },
    { name: 'Offline', arn: 'arn:x/agent-state/off', type: 'offline' },
  ];
  return {
    current: statuses[0],
    set: [],
    agentName: () => 'Ada Lovelace',
    currentStatus() { return this.current; },
    nextStatus: () => next,
    onContact: () => contact,
    statuses: () => statuses,
    setStatus(status) {
      this.set.push(status.name);
      if (fail) return Promise.reject(new Error(fail));
      this.current = status;
      return Promise.resolve();
    },
  };
}

test('renderStatus_should_showTheAgent_theirStatus_theNextOne_andOneButtonPerStatus', async () => {
  const { document, view, text } = page();
  const agent = adapter({ contact: true, next: 'Lunch' });
  view.renderStatus(agent);

  assert.equal(text('#agent-name'), 'Ada Lovelace');
  assert.equal(text('#status-name'), 'Available');
  assert.equal(document.querySelector('#status-name').dataset.type, 'routable');
  assert.equal(text('#next-status'), 'Next: Lunch');
  assert.equal(document.body.dataset.contact, 'live');
  const buttons = [...document.querySelectorAll('#status-buttons button')];
  assert.deepEqual(buttons.map((b) => b.textContent), ['Available', 'Lunch', 'Offline']);
  assert.deepEqual(buttons.map((b) => b.getAttribute('aria-pressed')), ['true', 'false', 'false']);
  assert.deepEqual(buttons.map((b) => b.dataset.statusType), ['routable', 'not_routable', 'offline']);
  assert.ok(buttons.every((b) => b.getAttribute('type') === 'button'));

  buttons[1].dispatchEvent(new document.defaultView.Event('click'));
  await settle();
  assert.deepEqual(agent.set, ['Lunch']);
  assert.equal(text('#status-name'), 'Lunch', 'drawn again after the change');
  assert.deepEqual([...document.querySelectorAll('#status-buttons button')].map((b) => b.getAttribute('aria-pressed')), ['false', 'true', 'false']);
});

test('renderStatus_should_sayWhenAStatusCannotBeSet_andDrawNoStatusBeforeStreamsHasOne', async () => {
  const { document, view, text, hidden } = page();
  const agent = adapter({ fail: 'unknown status Lunch' });
  agent.current = null;
  view.renderStatus(agent);
  assert.equal(text('#status-name'), '—');
  assert.equal(document.querySelector('#status-name').dataset.type, '');
  assert.equal(text('#next-status'), '');
  assert.equal(document.body.dataset.contact, 'none');

  document.querySelectorAll('#status-buttons button')[1].dispatchEvent(new document.defaultView.Event('click'));
  await settle();
  assert.equal(hidden('#notice'), false);
  assert.equal(text('#notice'), 'Your status could not be set to Lunch: unknown status Lunch.');
});

test('agentPicker_should_linkEachDemoAgent', () => {
  const { document, view, hidden } = page();
  view.showAgentPicker({ agents: [{ userId: 'demo-ada', name: 'Ada Lovelace' }, { userId: 'x&y', name: 'Odd Id' }] });
  assert.equal(hidden('#picker'), false);
  const links = [...document.querySelectorAll('#picker ul li a')];
  assert.deepEqual(links.map((a) => [a.getAttribute('href'), a.textContent]),
    [['?agent=demo-ada', 'Ada Lovelace (demo-ada)'], ['?agent=x%26y', 'Odd Id (x&y)']]);
});

test('signingIn_should_sayItInTheHeader', () => {
  const { view, text } = page();
  view.signingIn();
  assert.equal(text('#backstop-state'), 'Signing in…');
});

test('view_should_drawAnAdapterWithoutItsOptionalParts_andStatesWithoutDetail', async () => {
  const { document, view, text, hidden } = page();
  const minimal = {
    currentStatus: () => ({ name: 'Available', arn: 'arn:x/agent-state/avail' }),
    statuses: () => [{ name: 'Available', arn: 'arn:x/agent-state/avail' }, { name: 'Lunch', arn: 'arn:x/agent-state/lunch' }],
    setStatus: async () => { throw 'refused by a string'; },
  };
  view.renderStatus(minimal);
  assert.equal(text('#agent-name'), '');
  assert.equal(text('#next-status'), '');
  assert.equal(document.body.dataset.contact, 'none');
  assert.equal(document.querySelector('#status-name').dataset.type, '');
  const buttons = [...document.querySelectorAll('#status-buttons button')];
  assert.deepEqual(buttons.map((b) => b.dataset.statusType), ['', '']);
  buttons[1].dispatchEvent(new document.defaultView.Event('click'));
  await settle();
  assert.equal(text('#notice'), 'Your status could not be set to Lunch: refused by a string.');

  view.setBackstopState(STATE.OPEN, { otherSessions: 2 });
  for (const state of [STATE.DEGRADED, STATE.CLOSED, STATE.ERROR]) {
    view.setBackstopState(state);
    assert.equal(document.body.dataset.otherSessions, '2', `${state}: only an open session updates the count`);
  }
  assert.equal(text('#backstop-state'), 'Backstop unreachable, retrying…');
  view.setBackstopState(STATE.CLOSED);
  assert.match(text('#banner'), /^The backstop is not answering/, 'a close without detail is no server close: the banner stays');
});

test('signInAgain_should_beOfferedOnlyForAnExpiredOrRefusedSignIn', () => {
  const { document, view, hidden } = page();
  view.useSignIn({ signIn: async () => {} });
  for (const detail of [{ error: 'identity_mismatch', status: 403, message: 'not you' }, { status: 503, retrying: true }, undefined]) {
    view.setBackstopState(STATE.ERROR, detail);
    assert.equal(document.querySelector('#banner button'), null, JSON.stringify(detail));
    assert.equal(hidden('#banner'), true, JSON.stringify(detail));
  }
  view.setBackstopState(STATE.OPEN, {});
  view.setBackstopState(STATE.ERROR, { error: 'unauthenticated', status: 401 });
  assert.equal(document.querySelector('#banner button').textContent, 'Sign in again');
});
