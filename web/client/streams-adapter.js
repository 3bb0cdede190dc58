// The one place the client touches amazon-connect-streams (the `connect` global of the host page). The backstop
// only sees this adapter's small surface, which the local simulated Streams implements too.
//
// Streams facts this relies on (2.28.2, release/connect-streams.js):
// - agent.onStateChange fires only when the state's name changes; agent.onRefresh fires on every agent snapshot,
//   which is where a queued next state and a contact starting or ending show up.
// - agent.setState(state, callbacks, {enqueueNextState: true}) queues the state behind a live contact; without
//   the option Connect refuses the change while a contact is live.
// - contact-driven system states (Busy, AfterCallWork, ...) can carry a null agentStateARN; the state the agent
//   chose is agent.getAvailabilityState().state (a name).

export function createStreamsAdapter(connect) {
  let agent = null;
  let seen = null; // what listeners last heard of: state, next state, contacts
  const agentListeners = [];
  const statusListeners = [];
  const choiceListeners = [];

  const stateOf = (s) => (s ? { name: s.name, arn: s.agentStateARN ?? null, type: s.type } : null);

  function signature() {
    const state = agent.getState();
    return [state?.name, state?.agentStateARN, agent.getNextState?.()?.name, agent.getContacts().length].join('|');
  }

  function refreshed() {
    const now = signature();
    if (now === seen) return;
    seen = now;
    statusListeners.forEach((listener) => listener());
  }

  connect.agent((a) => {
    agent = a;
    seen = signature();
    a.onStateChange(refreshed);
    a.onRefresh?.(refreshed);
    agentListeners.forEach((listener) => listener());
  });

  const offlineState = () => agent?.getAgentStates().find((s) => s.type === (connect.AgentStateType?.OFFLINE ?? 'offline'));

  return {
    onAgent(listener) { agentListeners.push(listener); if (agent) listener(); },
    /** Any change the page shows: the state, the queued next state, a contact starting or ending. */
    onStatusChange(listener) { statusListeners.push(listener); },
    /** A status the agent chose through this adapter (the page's own buttons). */
    onAgentChoice(listener) { choiceListeners.push(listener); },
    agentArn() { return agent.getAgentARN(); },
    agentName() { return agent.getName(); },
    /** What Streams shows now, system states (AfterCallWork...) included: their arn may be null. */
    currentStatus() { return agent ? stateOf(agent.getState()) : null; },
    /**
     * The status the agent chose (never a contact-driven system state): what the server records and what a
     * reload restores. In after-call work this is the status behind it, found by name among the agent's states.
     */
    chosenStatus() {
      if (!agent) return null;
      const state = agent.getState();
      if (state?.agentStateARN) return stateOf(state);
      const chosen = agent.getAvailabilityState?.()?.state;
      return stateOf(agent.getAgentStates().find((s) => s.agentStateARN && s.name === chosen));
    },
    nextStatus() { return agent?.getNextState?.()?.name ?? null; },
    onContact() { return agent ? agent.getContacts().length > 0 : false; },
    statuses() { return agent ? agent.getAgentStates().map(stateOf) : []; },
    /**
     * The seed recipe: ask for the OFFLINE-type state and do not wait (the page is going away). Queued behind a
     * live contact, as Streams requires, since the leave-page guard exists for exactly that case.
     */
    setOfflineBestEffort() {
      const offline = offlineState();
      if (offline) agent.setState(offline, { success() {}, failure() {} }, { enqueueNextState: true });
    },
    /** Sets one of the agent's statuses; rejects (never throws) for a status this agent does not have. */
    setStatus(status) {
      const target = agent?.getAgentStates().find((s) => status?.arn && s.agentStateARN === status.arn);
      if (!target) return Promise.reject(new Error(`unknown status ${status?.name ?? status?.arn ?? status}`));
      choiceListeners.forEach((listener) => listener(status));
      return new Promise((resolve, reject) => agent.setState(target, { success: resolve, failure: reject }));
    },
  };
}
