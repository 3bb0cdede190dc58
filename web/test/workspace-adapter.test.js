// The Agent Workspace adapter (workspace/src/agent-client-adapter.js) against a fake AgentClient that answers as
// @amazon-connect/contact 1.0.12 types say (AgentState: agentStateARN?, type, name).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAgentClientAdapter, toStatus } from '../workspace/src/agent-client-adapter.js';

const ARN = 'arn:aws:connect:us-east-1:123456789012:instance/i-1/agent/u-1';
const AVAILABLE = { agentStateARN: 'arn:x/agent-state/available', type: 'routable', name: 'Available' };
const OFFLINE = { agentStateARN: 'arn:x/agent-state/offline', type: 'offline', name: 'Offline' };

function fakeAgent({ state = OFFLINE, list = async () => [AVAILABLE, OFFLINE] } = {}) {
  const calls = [];
  let handler = null;
  return {
    calls,
    publish: (event) => handler(event),
    getARN: async () => ARN,
    getName: async () => 'Ada Lovelace',
    getAvailabilityState: async () => state,
    listAvailabilityStates: list,
    onAvailabilityStateChanged: (h) => { handler = h; },
    offAvailabilityStateChanged: (h) => { if (h === handler) handler = null; calls.push(['off']); },
    setAvailabilityState: async (arn) => { calls.push(['set', arn]); return { status: 'updated', current: AVAILABLE }; },
    setOffline: async () => { calls.push(['offline']); throw new Error('no permission'); },
  };
}

test('adapter_should_reportTheAgentAtOnce_withTheWorkspacesArnNameAndStatus', async () => {
  const adapter = await createAgentClientAdapter(fakeAgent());
  let told = 0;
  adapter.onAgent(() => { told += 1; });
  assert.equal(told, 1);
  assert.equal(adapter.agentArn(), ARN);
  assert.equal(adapter.agentName(), 'Ada Lovelace');
  assert.deepEqual(adapter.currentStatus(), { name: 'Offline', arn: OFFLINE.agentStateARN, type: 'offline' });
  assert.deepEqual(adapter.statuses().map((s) => s.name), ['Available', 'Offline']);
});

test('adapter_should_followAvailabilityStateChanged_andTellListeners', async () => {
  const agent = fakeAgent();
  const adapter = await createAgentClientAdapter(agent);
  const seen = [];
  adapter.onStatusChange(() => seen.push(adapter.currentStatus().name));
  agent.publish({ state: AVAILABLE, previous: { state: OFFLINE } });
  assert.deepEqual(seen, ['Available']);
  assert.deepEqual(adapter.chosenStatus(), { name: 'Available', arn: AVAILABLE.agentStateARN, type: 'routable' });
});

test('adapter_should_chooseNoStatus_forASystemStateWithoutArn', async () => {
  const adapter = await createAgentClientAdapter(fakeAgent({ state: { type: 'system', name: 'Busy' } }));
  assert.equal(adapter.currentStatus().arn, null);
  assert.equal(adapter.chosenStatus(), null, 'the close reports no status rather than a made-up one');
});

test('adapter_should_setOnlyKnownStatuses_andNeverThrowFromTheBestEffortOffline', async () => {
  const agent = fakeAgent();
  const adapter = await createAgentClientAdapter(agent);
  await adapter.setStatus(toStatus(AVAILABLE));
  await assert.rejects(adapter.setStatus({ name: 'Lunch', arn: 'arn:x/agent-state/lunch' }), /unknown status/);
  adapter.setOfflineBestEffort(); // the workspace refuses: swallowed, the page is going away
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(agent.calls, [['set', AVAILABLE.agentStateARN], ['offline']]);
});

test('adapter_should_start_whenTheStatusListIsRefused_butRestoreNothing', async () => {
  const adapter = await createAgentClientAdapter(fakeAgent({ list: async () => { throw new Error('User.Configuration.View missing'); } }));
  assert.deepEqual(adapter.statuses(), []);
  await assert.rejects(adapter.setStatus(toStatus(AVAILABLE)), /unknown status/);
});

test('adapter_should_leaveTheWorkspaceTopic_onDestroy', async () => {
  const agent = fakeAgent();
  const adapter = await createAgentClientAdapter(agent);
  adapter.destroy();
  assert.deepEqual(agent.calls, [['off']]);
});

test('adapter_should_keepAChangePublishedWhileItReads_notTheReadsOlderAnswer', async () => {
  // The agent clicks Available as the service starts: the topic arrives before getAvailabilityState's answer,
  // which was taken earlier. Reading first and subscribing after lost this change for the whole session.
  let answerRead;
  const agent = fakeAgent();
  agent.getAvailabilityState = () => new Promise((resolve) => { answerRead = () => resolve(OFFLINE); });
  const starting = createAgentClientAdapter(agent, { refreshMs: 0 });
  await new Promise((resolve) => setImmediate(resolve));
  agent.publish({ state: AVAILABLE, previous: { state: OFFLINE } });
  answerRead();
  const adapter = await starting;
  assert.equal(adapter.currentStatus().name, 'Available');
});

test('adapter_should_readTheStatusAgain_when_aChangesTopicIsLost', async () => {
  let tick = null;
  let cleared = null;
  const agent = fakeAgent();
  const adapter = await createAgentClientAdapter(agent, {
    refreshMs: 5000, setInterval: (fn, ms) => { tick = fn; assert.equal(ms, 5000); return 7; }, clearInterval: (id) => { cleared = id; },
  });
  const seen = [];
  adapter.onStatusChange(() => seen.push(adapter.currentStatus().name));
  agent.getAvailabilityState = async () => AVAILABLE; // the agent went Available; no topic came
  await tick();
  assert.equal(adapter.currentStatus().name, 'Available', 'a close now reports Available, so the server sets Offline');
  assert.deepEqual(seen, ['Available']);
  await tick();
  assert.deepEqual(seen, ['Available'], 'an unchanged status tells nobody');
  agent.getAvailabilityState = async () => { throw new Error('no answer'); };
  await tick();
  assert.equal(adapter.currentStatus().name, 'Available', 'a failed read keeps what was known');
  adapter.destroy();
  assert.equal(cleared, 7);
});

/** An interval the test ticks by hand, recording what the adapter asked of it. */
function handInterval() {
  const interval = { tick: null, every: [], cleared: [] };
  interval.setInterval = (fn, ms) => { interval.tick = fn; interval.every.push(ms); return 7; };
  interval.clearInterval = (id) => { interval.cleared.push(id); };
  return interval;
}

test('adapter_should_readAgainEvery5s_byDefault', async () => {
  const interval = handInterval();
  await createAgentClientAdapter(fakeAgent(), { setInterval: interval.setInterval, clearInterval: interval.clearInterval });
  assert.deepEqual(interval.every, [5000]);
});

test('adapter_should_setNoTimer_andClearNone_whenRefreshIsOff', async () => {
  const interval = handInterval();
  const adapter = await createAgentClientAdapter(fakeAgent(), { refreshMs: 0, setInterval: interval.setInterval, clearInterval: interval.clearInterval });
  adapter.destroy();
  assert.deepEqual(interval.every, []);
  assert.deepEqual(interval.cleared, []);
});

test('adapter_should_tellAStatusThatDiffersInItsArnOrTypeAlone_andNothingWhenAllThreeAreTheSame', async () => {
  const interval = handInterval();
  const agent = fakeAgent({ state: AVAILABLE });
  const adapter = await createAgentClientAdapter(agent, { setInterval: interval.setInterval, clearInterval: interval.clearInterval });
  const seen = [];
  adapter.onStatusChange(() => seen.push(Object.values(adapter.currentStatus()).join(' ')));
  const reads = [
    { ...AVAILABLE }, // the same three: nobody is told
    { ...AVAILABLE, agentStateARN: 'arn:x/agent-state/available-2' },
    { ...AVAILABLE, agentStateARN: 'arn:x/agent-state/available-2', type: 'not_routable' },
    { ...AVAILABLE, agentStateARN: 'arn:x/agent-state/available-2', type: 'not_routable', name: 'Available 2' },
  ];
  for (const read of reads) {
    agent.getAvailabilityState = async () => read;
    await interval.tick();
  }
  assert.deepEqual(seen, ['Available arn:x/agent-state/available-2 routable', 'Available arn:x/agent-state/available-2 not_routable',
    'Available 2 arn:x/agent-state/available-2 not_routable']);
});

test('adapter_should_startWithNoStatus_whenTheWorkspaceHasNone_andTellTheFirstOneRead', async () => {
  const interval = handInterval();
  const agent = fakeAgent({ state: null, list: async () => null });
  const adapter = await createAgentClientAdapter(agent, { setInterval: interval.setInterval, clearInterval: interval.clearInterval });
  assert.equal(adapter.currentStatus(), null);
  assert.equal(adapter.chosenStatus(), null);
  assert.deepEqual(adapter.statuses(), [], 'no list: no statuses, not a made-up one');
  const seen = [];
  adapter.onStatusChange(() => seen.push(adapter.currentStatus().name));
  agent.getAvailabilityState = async () => AVAILABLE;
  await interval.tick();
  assert.deepEqual(seen, ['Available']);
});

test('adapter_should_ignoreATopicWithoutAState', async () => {
  const agent = fakeAgent();
  const adapter = await createAgentClientAdapter(agent, { refreshMs: 0 });
  const seen = [];
  adapter.onStatusChange(() => seen.push('told'));
  agent.publish(undefined);
  agent.publish({ previous: { state: OFFLINE } });
  assert.deepEqual(seen, []);
  assert.equal(adapter.currentStatus().name, 'Offline');
});

test('adapter_should_tellEveryListener_whenOneThrows_andNoneThatLeft', async () => {
  const agent = fakeAgent();
  const adapter = await createAgentClientAdapter(agent, { refreshMs: 0 });
  const seen = [];
  const errors = [];
  const error = console.error;
  console.error = (...args) => errors.push(args[0]);
  try {
    adapter.onStatusChange(() => { throw new Error('the page rendering failed'); });
    const leave = adapter.onStatusChange(() => seen.push('left'));
    adapter.onStatusChange(() => seen.push('stays'));
    agent.publish({ state: AVAILABLE });
    leave();
    agent.publish({ state: OFFLINE });
  } finally {
    console.error = error;
  }
  assert.deepEqual(seen, ['left', 'stays', 'stays']);
  assert.deepEqual(errors, ['ccp-backstop: a status listener threw', 'ccp-backstop: a status listener threw']);
});

test('adapter_should_setAStatusKnownByItsArn_andRefuseNoStatus', async () => {
  const agent = fakeAgent();
  const adapter = await createAgentClientAdapter(agent, { refreshMs: 0 });
  await adapter.setStatus({ arn: AVAILABLE.agentStateARN });
  await assert.rejects(adapter.setStatus(null), /unknown status null/);
  assert.deepEqual(agent.calls, [['set', AVAILABLE.agentStateARN]]);
});

test('adapter_should_destroy_withAnAgentClientThatCannotUnsubscribe_andTellNobodyAfter', async () => {
  const agent = fakeAgent();
  delete agent.offAvailabilityStateChanged; // an SDK without it: the topic keeps coming
  const adapter = await createAgentClientAdapter(agent, { refreshMs: 0 });
  const seen = [];
  adapter.onStatusChange(() => seen.push('told'));
  adapter.destroy();
  agent.publish({ state: AVAILABLE });
  assert.deepEqual(seen, []);
  assert.deepEqual(adapter.statuses(), []);
});
