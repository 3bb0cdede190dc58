// The backstop client's adapter surface (see @ccp-backstop/client index.d.ts, StreamsAdapter) over the Agent
// Workspace SDK's AgentClient (@amazon-connect/contact 1.0.12, lib-esm/agent-client.js): the workspace answers
// these as requests in namespace aws.connect.contact (agent/getARN, agent/getName, agent/getAvailabilityState,
// agent/listAvailabilityStates, agent/setAvailabilityState, agent/setOffline) and publishes
// agent/availabilityStateChanged. The agent's status changes in the workspace's own UI, never through this
// adapter, so it has no onAgentChoice: the restore after a reload then waits for Offline as it does in a CCP.

/** Workspace AgentState ({agentStateARN?, type, name}) -> the client's AgentStatus ({name, arn, type}). */
export const toStatus = (state) => (state ? { name: state.name, arn: state.agentStateARN ?? null, type: state.type } : null);

/**
 * Reads what the client needs once (ARN, name, status, statuses), then follows status changes.
 * @param {object} agent an AgentClient (or anything with its methods: tests pass a fake)
 */
export async function createAgentClientAdapter(agent) {
  const [arn, name, state, states] = await Promise.all([agent.getARN(), agent.getName(), agent.getAvailabilityState(),
    agent.listAvailabilityStates().catch(() => [])]);
  let current = toStatus(state);
  let known = (states ?? []).map(toStatus);
  const statusListeners = new Set();
  const onChanged = (event) => {
    current = toStatus(event?.state) ?? current;
    [...statusListeners].forEach((listener) => {
      try { listener(); } catch (error) { console.error('ccp-backstop: a status listener threw', error); }
    });
  };
  agent.onAvailabilityStateChanged(onChanged);
  return {
    /** The workspace knows the agent before the service starts: reported at once. */
    onAgent(listener) { listener(); return () => {}; },
    onStatusChange(listener) { statusListeners.add(listener); return () => statusListeners.delete(listener); },
    agentArn: () => arn,
    agentName: () => name,
    currentStatus: () => current,
    /** Contact-driven system states carry no ARN: the status behind them is not known here, so none is sent. */
    chosenStatus: () => (current?.arn ? current : null),
    statuses: () => known,
    setStatus(status) {
      if (!known.some((s) => status?.arn && s.arn === status.arn)) return Promise.reject(new Error(`unknown status ${status?.name ?? status}`));
      return agent.setAvailabilityState(status.arn);
    },
    /** The seed recipe (when the server cannot be reached as the page goes): ask the workspace for Offline. */
    setOfflineBestEffort() { agent.setOffline().catch(() => {}); },
    destroy() {
      statusListeners.clear();
      agent.offAvailabilityStateChanged?.(onChanged);
      known = [];
    },
  };
}
