// The local simulated Streams against a scripted Connect emulator admin surface (the same adapter surface as the
// real Streams adapter): what it reads, what it sends, and when it tells the page something changed.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createSimulatedStreams } from '../js/simulated-streams.js';

const BASE = 'http://127.0.0.1:3001';
const INSTANCE = 'i-1';
const INSTANCE_ARN = 'arn:aws:connect:us-east-1:123456789012:instance/i-1';
const STATUSES = [{ id: 'avail', name: 'Available', type: 'ROUTABLE' }, { id: 'off', name: 'Offline', type: 'OFFLINE' },
  { id: 'brk', name: 'Break', type: 'NOT_ROUTABLE' }];

/** The emulator: the agent's view changes with PUT status, or when the test says so. */
function emulator({ known = true } = {}) {
  const view = { firstName: 'Ada', lastName: 'Lovelace', statusId: 'off', statusName: 'Offline', statusType: 'OFFLINE',
    nextStatusName: null, contactId: null };
  const calls = [];
  const fetch = async (url, init = {}) => {
    calls.push({ url, method: init.method ?? 'GET', body: init.body });
    if (url === `${BASE}/_emulator/instances/${INSTANCE}`) return { ok: true, json: async () => ({ statuses: STATUSES }) };
    if (url === `${BASE}/_emulator/instances/${INSTANCE}/agents/demo-ada`) {
      return { ok: known, json: async () => ({ ...view }) };
    }
    if (url === `${BASE}/_emulator/instances/${INSTANCE}/agents/demo-ada/status` && init.method === 'PUT') {
      const { statusId } = JSON.parse(init.body);
      const status = STATUSES.find((s) => s.id === statusId);
      Object.assign(view, { statusId, statusName: status.name, statusType: status.type });
      return { ok: true, json: async () => ({ ...view }) };
    }
    throw new Error(`unexpected ${url}`);
  };
  return { view, calls, fetch };
}

const create = (fetch, pollMs = 1000) => createSimulatedStreams({ emulatorBase: BASE, instanceId: INSTANCE,
  instanceArn: INSTANCE_ARN, userId: 'demo-ada', fetch, pollMs });

test('connect_should_loadTheStatusesAndTheAgent_thenTellTheAgentListeners', async () => {
  const { fetch } = emulator();
  const streams = create(fetch);
  let agents = 0;
  streams.onAgent(() => { agents += 1; });

  await streams.connect();
  streams.disconnect();

  assert.equal(agents, 1);
  assert.equal(streams.agentArn(), `${INSTANCE_ARN}/agent/demo-ada`);
  assert.equal(streams.agentName(), 'Ada Lovelace');
  assert.deepEqual(streams.currentStatus(), { name: 'Offline', arn: `${INSTANCE_ARN}/agent-state/off`, type: 'offline' });
  assert.deepEqual(streams.statuses().map((s) => [s.name, s.type]), [['Available', 'routable'], ['Offline', 'offline'], ['Break', 'not_routable']]);
  let late = 0;
  streams.onAgent(() => { late += 1; });
  assert.equal(late, 1, 'a listener added after the agent is known hears at once');
});

test('beforeConnect_should_knowNoStatus_andNameTheAgentByTheirId', () => {
  const streams = create(emulator().fetch);
  assert.equal(streams.currentStatus(), null);
  assert.equal(streams.agentName(), 'demo-ada');
  assert.equal(streams.nextStatus(), null);
  assert.equal(streams.onContact(), false);
});

test('connect_should_fail_when_theEmulatorDoesNotKnowTheAgent', async () => {
  await assert.rejects(create(emulator({ known: false }).fetch).connect(), /unknown demo agent demo-ada/);
});

test('setStatus_should_putTheStatusIdFromItsArn_andTellTheStatusListeners', async () => {
  const { fetch, calls } = emulator();
  const streams = create(fetch);
  await streams.connect();
  streams.disconnect();
  let changes = 0;
  streams.onStatusChange(() => { changes += 1; });

  await streams.setStatus(streams.statuses()[0]);

  const put = calls.find((c) => c.method === 'PUT');
  assert.deepEqual(JSON.parse(put.body), { statusId: 'avail' });
  assert.equal(streams.currentStatus().name, 'Available');
  assert.ok(changes >= 1);
});

test('polling_should_tellTheStatusListenersOnlyWhenStatusNextStatusOrContactChanged', async () => {
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    const { fetch, view } = emulator();
    const streams = create(fetch, 1000);
    await streams.connect();
    let changes = 0;
    streams.onStatusChange(() => { changes += 1; });
    const poll = async () => { mock.timers.tick(1000); for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); };

    await poll();
    assert.equal(changes, 0, 'nothing changed');
    view.contactId = 'c-1';
    await poll();
    assert.equal(changes, 1);
    assert.equal(streams.onContact(), true);
    view.nextStatusName = 'Offline';
    await poll();
    assert.equal(changes, 2);
    assert.equal(streams.nextStatus(), 'Offline');
    Object.assign(view, { statusId: 'brk', statusName: 'Break', statusType: 'NOT_ROUTABLE' });
    await poll();
    assert.equal(changes, 3);

    streams.disconnect();
    view.contactId = null;
    await poll();
    assert.equal(changes, 3, 'no polling after disconnect');
  } finally {
    mock.timers.reset();
  }
});

test('setOfflineBestEffort_should_putTheOfflineTypeStatus_andSwallowAFailure', async () => {
  const { fetch, calls } = emulator();
  const streams = create(fetch);
  await streams.connect();
  streams.disconnect();

  streams.setOfflineBestEffort();
  await new Promise((r) => setImmediate(r));

  assert.deepEqual(JSON.parse(calls.find((c) => c.method === 'PUT').body), { statusId: 'off' });
  const failing = create(async (url, init) => {
    if (init?.method === 'PUT') throw new Error('page gone');
    return fetch(url, init);
  });
  await failing.connect();
  failing.disconnect();
  assert.doesNotThrow(() => failing.setOfflineBestEffort());
  await new Promise((r) => setImmediate(r));
});

test('setStatus_should_tellTheChoiceListenersFirst_sendJson_andTellTheStatusListenersOncePerChoice', async () => {
  const { fetch, calls } = emulator();
  const streams = create(fetch);
  await streams.connect();
  streams.disconnect();
  const heard = [];
  streams.onAgentChoice((status) => heard.push(`choice ${status.name}`));
  streams.onStatusChange(() => heard.push(`change ${streams.currentStatus().name}`));

  const brk = streams.statuses().find((s) => s.name === 'Break');
  await streams.setStatus(brk);

  assert.deepEqual(heard, ['choice Break', 'change Break', 'change Break'],
    'the choice before the request; the change when the emulator answers and once the choice is done');
  const put = calls.find((c) => c.method === 'PUT');
  assert.equal(put.url, `${BASE}/_emulator/instances/${INSTANCE}/agents/demo-ada/status`);
  assert.deepEqual(calls.length, 3);
});

test('setStatus_should_refuseAStatusThisInstanceDoesNotHave_withoutARequest', async () => {
  const { fetch, calls } = emulator();
  const streams = create(fetch);
  await streams.connect();
  streams.disconnect();
  let choices = 0;
  streams.onAgentChoice(() => { choices += 1; });

  await assert.rejects(streams.setStatus({ name: 'Lunch', arn: `${INSTANCE_ARN}/agent-state/lunch` }), /^Error: unknown status Lunch$/);
  await assert.rejects(streams.setStatus({ name: 'Nameless' }), /^Error: unknown status Nameless$/, 'no ARN: never a match');
  await assert.rejects(streams.setStatus(undefined), /^Error: unknown status undefined$/);
  await assert.rejects(streams.setStatus('Break'), /^Error: unknown status Break$/);
  assert.equal(choices, 0);
  assert.equal(calls.filter((c) => c.method === 'PUT').length, 0);
});
