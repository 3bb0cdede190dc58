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
