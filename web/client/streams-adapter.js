// The one place the page touches amazon-connect-streams (the global `connect`). The backstop only sees this
// adapter's small surface, which the local simulated Streams implements too.

export function createStreamsAdapter(connect) {
  let agent = null;
  const agentListeners = [];
  const statusListeners = [];

  connect.agent((a) => {
    agent = a;
    a.onStateChange(() => statusListeners.forEach((listener) => listener()));
    agentListeners.forEach((listener) => listener());
  });

  const stateOf = (s) => (s ? { name: s.name, arn: s.agentStateARN ?? null, type: s.type } : null);

  return {
    onAgent(listener) { agentListeners.push(listener); if (agent) listener(); },
    onStatusChange(listener) { statusListeners.push(listener); },
    agentArn() { return agent.getAgentARN(); },
    agentName() { return agent.getName(); },
    currentStatus() { return agent ? stateOf(agent.getState()) : null; },
    nextStatus() { return agent?.getNextState?.()?.name ?? null; },
    onContact() { return agent ? agent.getContacts().length > 0 : false; },
    statuses() { return agent ? agent.getAgentStates().map(stateOf) : []; },
    /** The seed recipe: ask for the OFFLINE-type state and do not wait (the page is going away). */
    setOfflineBestEffort() {
      const offline = agent?.getAgentStates().find((s) => s.type === (connect.AgentStateType?.OFFLINE ?? 'offline'));
      if (offline) agent.setState(offline, { success() {}, failure() {} });
    },
    setStatus(status) {
      const target = agent.getAgentStates().find((s) => s.agentStateARN === status.arn);
      return new Promise((resolve, reject) => agent.setState(target, { success: resolve, failure: reject }));
    },
  };
}
