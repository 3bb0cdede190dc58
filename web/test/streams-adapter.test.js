// The Streams adapter against a fake of the amazon-connect-streams surface it uses (connect.agent, Agent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStreamsAdapter } from '../js/streams-adapter.js';

const states = [
  { name: 'Available', type: 'routable', agentStateARN: 'arn:x/agent-state/avail' },
  { name: 'Lunch', type: 'not_routable', agentStateARN: 'arn:x/agent-state/lunch' },
  { name: 'Offline', type: 'offline', agentStateARN: 'arn:x/agent-state/off' },
];

function fakeConnect() {
  let onAgent;
  const agent = {
    state: states[0], set: [], changeListeners: [], contacts: [],
    getAgentARN: () => 'arn:x/agent/u-1', getName: () => 'Ada', getState() { return this.state; },
    getNextState: () => null, getContacts() { return this.contacts; }, getAgentStates: () => states,
    onStateChange(listener) { this.changeListeners.push(listener); },
    setState(state, callbacks) { this.set.push(state.name); this.state = state; callbacks.success(); },
  };
  return { connect: { AgentStateType: { OFFLINE: 'offline' }, agent(cb) { onAgent = cb; } }, agent, signIn: () => onAgent(agent) };
}

test('adapter_should_reportStreamsAgent_inTheBackstopsTerms', async () => {
  const { connect, agent, signIn } = fakeConnect();
  const adapter = createStreamsAdapter(connect);
  let agents = 0;
  let changes = 0;
  adapter.onAgent(() => { agents += 1; });
  adapter.onStatusChange(() => { changes += 1; });
  assert.equal(adapter.currentStatus(), null, 'no agent before Streams reports one');

  signIn();
  assert.equal(agents, 1);
  assert.equal(adapter.agentArn(), 'arn:x/agent/u-1');
  assert.deepEqual(adapter.currentStatus(), { name: 'Available', arn: 'arn:x/agent-state/avail', type: 'routable' });
  agent.contacts = [{}];
  assert.equal(adapter.onContact(), true);

  await adapter.setStatus({ name: 'Lunch', arn: 'arn:x/agent-state/lunch' });
  agent.changeListeners.forEach((l) => l());
  assert.deepEqual(agent.set, ['Lunch']);
  assert.equal(changes, 1);

  adapter.setOfflineBestEffort();
  assert.deepEqual(agent.set, ['Lunch', 'Offline'], 'the seed recipe picks the OFFLINE-type state');
});
