// The Streams adapter against a fake of the amazon-connect-streams surface it uses (connect.agent, Agent), made
// honest to Streams 2.28.2: callbacks come asynchronously, setState takes the third {enqueueNextState} argument
// and refuses a change during a live contact without it, onStateChange fires on a name change only, onRefresh on
// every snapshot, and system states carry no agentStateARN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStreamsAdapter } from '../client/streams-adapter.js';
import { streamsWithLifecycle } from './fakes/streams-lifecycle.js';

const states = [
  { name: 'Available', type: 'routable', agentStateARN: 'arn:x/agent-state/avail' },
  { name: 'Lunch', type: 'not_routable', agentStateARN: 'arn:x/agent-state/lunch' },
  { name: 'Offline', type: 'offline', agentStateARN: 'arn:x/agent-state/off' },
];
const AFTER_CALL_WORK = { name: 'AfterCallWork', type: 'system', agentStateARN: null };
const later = (fn) => setImmediate(fn);
const noWatch = { setInterval: () => 0, clearInterval: () => {} };
const settle = () => new Promise((resolve) => setImmediate(resolve));

function fakeConnect() {
  let onAgent;
  const agent = {
    state: states[0], next: null, availability: 'Available', set: [], changeListeners: [], refreshListeners: [], contacts: [],
    getAgentARN: () => 'arn:x/agent/u-1', getName: () => 'Ada', getState() { return this.state; },
    getNextState() { return this.next; }, getAvailabilityState() { return { state: this.availability, timeStamp: new Date() }; },
    getContacts() { return this.contacts; }, getAgentStates: () => states,
    onStateChange(listener) { this.changeListeners.push(listener); },
    onRefresh(listener) { this.refreshListeners.push(listener); },
    /** A snapshot from Connect: onRefresh always, onStateChange when the name changed (as Streams does). */
    snapshot(change) {
      const before = this.state.name;
      Object.assign(this, change);
      if (this.state.name !== before) this.changeListeners.forEach((l) => l({ oldState: before, newState: this.state.name }));
      this.refreshListeners.forEach((l) => l(this));
    },
    setState(state, callbacks, options) {
      this.set.push({ name: state.name, enqueue: Boolean(options?.enqueueNextState) });
      later(() => {
        if (this.contacts.length > 0 && !options?.enqueueNextState) {
          callbacks.failure?.({ type: 'InvalidStateException', message: 'a contact is live' });
          return;
        }
        if (this.contacts.length > 0) this.snapshot({ next: state });
        else this.snapshot({ state });
        callbacks.success?.();
      });
    },
  };
  return { connect: { AgentStateType: { OFFLINE: 'offline' }, agent(cb) { onAgent = cb; } }, agent, signIn: () => onAgent(agent) };
}

test('adapter_should_reportStreamsAgent_inTheBackstopsTerms', async () => {
  const { connect, agent, signIn } = fakeConnect();
  const adapter = createStreamsAdapter(connect, noWatch);
  let agents = 0;
  let changes = 0;
  let choices = 0;
  adapter.onAgent(() => { agents += 1; });
  adapter.onStatusChange(() => { changes += 1; });
  adapter.onAgentChoice(() => { choices += 1; });
  assert.equal(adapter.currentStatus(), null, 'no agent before Streams reports one');

  signIn();
  assert.equal(agents, 1);
  assert.equal(adapter.agentArn(), 'arn:x/agent/u-1');
  assert.deepEqual(adapter.currentStatus(), { name: 'Available', arn: 'arn:x/agent-state/avail', type: 'routable' });

  await adapter.setStatus({ name: 'Lunch', arn: 'arn:x/agent-state/lunch' });
  assert.deepEqual(agent.set, [{ name: 'Lunch', enqueue: false }]);
  assert.equal(changes, 1, 'one change heard once, although Streams fired both onStateChange and onRefresh');
  assert.equal(choices, 1, 'the agent chose it through the page');
  assert.equal(adapter.currentStatus().name, 'Lunch');
});

test('setOfflineBestEffort_should_queueOfflineBehindALiveContact_whereAPlainSetStateIsRefused', async () => {
  const { connect, agent, signIn } = fakeConnect();
  const adapter = createStreamsAdapter(connect, noWatch);
  signIn();
  agent.contacts = [{ contactId: 'c-1' }];

  adapter.setOfflineBestEffort();
  await settle();

  assert.deepEqual(agent.set, [{ name: 'Offline', enqueue: true }], 'asked with {enqueueNextState: true}');
  assert.equal(agent.next?.name, 'Offline', 'queued: the call ends, then the agent goes Offline');
  assert.equal(adapter.nextStatus(), 'Offline');
});

test('onStatusChange_should_fire_when_aNextStateIsQueuedOrAContactStarts_withoutARename', async () => {
  const { connect, agent, signIn } = fakeConnect();
  const adapter = createStreamsAdapter(connect, noWatch);
  const heard = [];
  adapter.onStatusChange(() => heard.push(`${adapter.currentStatus().name}|${adapter.nextStatus()}|${adapter.onContact()}`));
  signIn();

  agent.snapshot({ contacts: [{ contactId: 'c-1' }] }); // a call starts; the state's name stays Available
  agent.snapshot({ next: states[1] }); // the agent queues Lunch for after it
  agent.snapshot({}); // a snapshot with nothing new

  assert.deepEqual(heard, ['Available|null|true', 'Available|Lunch|true'], 'both changes heard, the idle snapshot not');
});

test('chosenStatus_should_beTheStatusBehindAfterCallWork_whoseArnIsNull', () => {
  const { connect, agent, signIn } = fakeConnect();
  const adapter = createStreamsAdapter(connect, noWatch);
  signIn();
  agent.snapshot({ state: AFTER_CALL_WORK, availability: 'Lunch' });

  assert.deepEqual(adapter.currentStatus(), { name: 'AfterCallWork', arn: null, type: 'system' }, 'what Streams shows');
  assert.deepEqual(adapter.chosenStatus(), { name: 'Lunch', arn: 'arn:x/agent-state/lunch', type: 'not_routable' },
    'what a reload restores');

  agent.snapshot({ state: states[0] });
  assert.deepEqual(adapter.chosenStatus(), { name: 'Available', arn: 'arn:x/agent-state/avail', type: 'routable' });
});

test('setStatus_should_reject_notThrow_when_theStatusIsUnknown', async () => {
  const { connect, agent, signIn } = fakeConnect();
  const adapter = createStreamsAdapter(connect, noWatch);
  let choices = 0;
  adapter.onAgentChoice(() => { choices += 1; });
  signIn();

  let result;
  assert.doesNotThrow(() => { result = adapter.setStatus({ name: 'Gone', arn: 'arn:x/agent-state/deleted' }); });
  await assert.rejects(result, /unknown status Gone/);
  await assert.rejects(adapter.setStatus(undefined), /unknown status/);
  assert.deepEqual(agent.set, [], 'Streams never asked (setState(undefined) throws in Streams)');
  assert.equal(choices, 0);
});

test('setStatus_should_rejectWithStreamsFailure_when_connectRefuses', async () => {
  const { connect, agent, signIn } = fakeConnect();
  const adapter = createStreamsAdapter(connect, noWatch);
  signIn();
  agent.contacts = [{ contactId: 'c-1' }];

  await assert.rejects(adapter.setStatus({ name: 'Lunch', arn: 'arn:x/agent-state/lunch' }), (error) => error.type === 'InvalidStateException');
});

test('adapter_should_answerSafely_beforeStreamsReportsTheAgent_andTellLateListenersAtOnce', () => {
  const { connect, agent, signIn } = fakeConnect();
  const adapter = createStreamsAdapter(connect, noWatch);
  assert.deepEqual(adapter.statuses(), []);
  assert.equal(adapter.chosenStatus(), null);
  assert.equal(adapter.nextStatus(), null);
  assert.equal(adapter.onContact(), false);

  signIn();
  let late = 0;
  adapter.onAgent(() => { late += 1; });
  assert.equal(late, 1, 'a listener added after the agent is known hears of it at once');
  assert.equal(adapter.agentName(), 'Ada');
  assert.deepEqual(adapter.statuses().map((s) => s.name), ['Available', 'Lunch', 'Offline']);
  assert.equal(adapter.onContact(), false, 'no contact');
  agent.contacts = [{ contactId: 'c-1' }];
  assert.equal(adapter.onContact(), true);
  agent.next = states[2];
  assert.equal(adapter.nextStatus(), 'Offline');
});

function manualWatch() {
  const ticks = [];
  return { ticks, setInterval: (fn) => { ticks.push(fn); return ticks.length; }, clearInterval: (id) => { ticks[id - 1] = null; },
    tick() { ticks.forEach((fn) => fn?.()); } };
}

test('adapter_should_answerWithoutThrowing_after_connectCoreTerminate', () => {
  const connect = streamsWithLifecycle(states);
  const adapter = createStreamsAdapter(connect, noWatch);
  connect.core.agentArrives('arn:x/agent/u-1', states[0]);
  assert.equal(adapter.currentStatus().name, 'Available');

  connect.core.terminate();

  assert.equal(adapter.currentStatus(), null, 'no agent: Streams has no data for one');
  assert.equal(adapter.chosenStatus(), null);
  assert.deepEqual(adapter.statuses(), []);
  assert.equal(adapter.onContact(), false);
  assert.doesNotThrow(() => adapter.setOfflineBestEffort());
});

test('adapter_should_hearTheAgentAgain_when_thePageCallsInitCCPAfterTerminate', () => {
  const connect = streamsWithLifecycle(states);
  const watch = manualWatch();
  const adapter = createStreamsAdapter(connect, watch);
  const agents = [];
  adapter.onAgent(() => agents.push(adapter.agentArn()));
  connect.core.agentArrives('arn:x/agent/u-1', states[0]);

  connect.core.terminate(); // log out
  connect.core.initCCP(); // log in again
  watch.tick();
  connect.core.agentArrives('arn:x/agent/u-2', states[1]);

  assert.deepEqual(agents, ['arn:x/agent/u-1', 'arn:x/agent/u-2']);
  assert.equal(adapter.currentStatus().name, 'Lunch');
  let changes = 0;
  adapter.onStatusChange(() => { changes += 1; });
  connect.core.agentDataProvider.data.state = states[0];
  connect.core.eventBus.trigger('agent::refresh');
  assert.equal(changes, 1, 'status changes heard from the new bus');
});

test('adapter_should_hearTheAgentOnce_when_theWatchFindsTheSameBus', () => {
  const connect = streamsWithLifecycle(states);
  const watch = manualWatch();
  const adapter = createStreamsAdapter(connect, watch);
  let agents = 0;
  adapter.onAgent(() => { agents += 1; });
  connect.core.agentArrives('arn:x/agent/u-1', states[0]);
  watch.tick();
  watch.tick();
  assert.equal(agents, 1);
});

test('adapter_should_isolateItsListeners_andLetThemGo', () => {
  const { connect, signIn } = fakeConnect();
  const watch = manualWatch();
  const adapter = createStreamsAdapter(connect, watch);
  const heard = [];
  const errors = [];
  const original = console.error;
  console.error = (...args) => errors.push(args);
  try {
    adapter.onAgent(() => { throw new Error('page listener'); });
    const off = adapter.onAgent(() => heard.push('backstop'));
    signIn();
    assert.deepEqual(heard, ['backstop'], 'a throwing listener does not keep the next from hearing');
    assert.equal(errors.length, 1);
    off();
    signIn();
    assert.deepEqual(heard, ['backstop'], 'removed');
  } finally {
    console.error = original;
  }
  adapter.destroy();
  assert.deepEqual(watch.ticks, [null], 'the watch stopped');
});

// After-call work keeps the ended contact in Streams' list: closing the tab then drops no call, so the leave-page
// prompt must not fire (agents close their CCP during after-call work at the end of a shift).
test('onContact_should_beFalse_duringAfterCallWork_andTellTheChange', async () => {
  const { connect, agent, signIn } = fakeConnect();
  connect.CONTACT_ACTIVE_STATES = { PAUSED: 'paused', INCOMING: 'incoming', PENDING: 'pending', CONNECTING: 'connecting', CONNECTED: 'connected' };
  const adapter = createStreamsAdapter(connect, noWatch);
  const heard = [];
  adapter.onStatusChange(() => heard.push(adapter.onContact()));
  signIn();
  let status = 'connected';
  const call = { contactId: 'c-1', getStatus: () => ({ type: status }) };

  agent.snapshot({ contacts: [call] });
  assert.equal(adapter.onContact(), true, 'a connected call is live');
  status = 'ended';
  agent.snapshot({}); // the call ends; the contact stays in the list through after-call work
  assert.equal(adapter.onContact(), false, 'after-call work: nothing to drop');
  status = 'paused';
  agent.snapshot({});

  assert.deepEqual(heard, [true, false, true], 'each change told (the guard updates on it)');
});

test('destroy_should_leaveEveryStreamsSubscriptionItMade_onTheCurrentBus', () => {
  const connect = streamsWithLifecycle(states);
  const adapter = createStreamsAdapter(connect, manualWatch());
  connect.core.agentArrives('arn:x/agent/u-1', states[0]);
  const bus = connect.core.eventBus;
  const subscribed = () => [...bus.subs.values()].reduce((n, list) => n + list.size, 0);
  assert.ok(subscribed() >= 2, 'the agent and its state changes are followed');

  adapter.destroy();

  assert.equal(subscribed(), 0, 'a destroyed client leaves nothing of its own on Streams');
  adapter.destroy(); // twice (a hot reload and a teardown): nothing left to leave, no error
});

// Without connect.CONTACT_ACTIVE_STATES (an older Streams): Streams' own live states, spelled out.
test('onContact_should_countStreamsLiveStates_when_theStreamsBuildNamesNone', () => {
  const { connect, agent, signIn } = fakeConnect();
  const adapter = createStreamsAdapter(connect, noWatch);
  signIn();
  for (const type of ['incoming', 'pending', 'connecting', 'connected', 'paused']) {
    agent.snapshot({ contacts: [{ getStatus: () => ({ type }) }] });
    assert.equal(adapter.onContact(), true, type);
  }
  for (const type of ['ended', 'error', 'missed', '']) {
    agent.snapshot({ contacts: [{ getStatus: () => ({ type }) }] });
    assert.equal(adapter.onContact(), false, `'${type}'`);
  }
  agent.snapshot({ contacts: [{ getStatus: () => { throw new Error('a contact Streams no longer knows'); } }] });
  assert.equal(adapter.onContact(), true, 'a status that cannot be read counts as live: the leave-page guard errs safe');
});
