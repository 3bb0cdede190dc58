// The backstop client's adapter surface (see @ccp-backstop/client index.d.ts, StreamsAdapter) over the Agent
// Workspace SDK's AgentClient (@amazon-connect/contact 1.0.12, lib-esm/agent-client.js): the workspace answers
// these as requests in namespace aws.connect.contact (agent/getARN, agent/getName, agent/getAvailabilityState,
// agent/listAvailabilityStates, agent/setAvailabilityState, agent/setOffline) and publishes
// agent/availabilityStateChanged. The agent's status changes in the workspace's own UI, never through this
// adapter, so it has no onAgentChoice: the restore after a reload then waits for Offline as it does in a CCP.

/** Workspace AgentState ({agentStateARN?, type, name}) -> the client's AgentStatus ({name, arn, type}). */
export const toStatus = (state) => (state ? { name: state.name, arn: state.agentStateARN ?? null, type: state.type } : null);

/** How often the adapter asks the workspace for the agent's status again, should a change's topic lag or be lost. */
export const STATUS_REFRESH_MS = 5000;

/**
 * Follows status changes first, then reads what the client needs (ARN, name, status, statuses): a change published
 * while the read is on its way wins over the read's older answer. The status is read again every
 * STATUS_REFRESH_MS, so a lagging or lost topic cannot leave the client believing an old status (a close that
 * reports Offline while the agent is Available would leave them Available).
 * @param {object} agent an AgentClient (or anything with its methods: tests pass a fake)
 * @param {{refreshMs?: number, setInterval?: Function, clearInterval?: Function}} [options]
 */
export async function createAgentClientAdapter(agent, options = {}) {
  const refreshMs = options.refreshMs ?? STATUS_REFRESH_MS;
  const every = options.setInterval ?? globalThis.setInterval;
  const stopEvery = options.clearInterval ?? globalThis.clearInterval;
  let current = null;
  let heard = false;
  const statusListeners = new Set();
  const tell = () => [...statusListeners].forEach((listener) => {
    try { listener(); } catch (error) { console.error('ccp-backstop: a status listener threw', error); }
  });
  const same = (a, b) => (a?.name ?? null) === (b?.name ?? null) && (a?.arn ?? null) === (b?.arn ?? null) && (a?.type ?? null) === (b?.type ?? null);
  const onChanged = (event) => {
    const next = toStatus(event?.state);
    if (!next) return;
    heard = true;
    current = next;
    tell();
  };
  agent.onAvailabilityStateChanged(onChanged);
  const [arn, name, state, states] = await Promise.all([agent.getARN(), agent.getName(), agent.getAvailabilityState(),
    agent.listAvailabilityStates().catch(() => [])]);
  if (!heard) current = toStatus(state);
  let known = (states ?? []).map(toStatus);
  const refresh = async () => {
    try {
      const next = toStatus(await agent.getAvailabilityState());
      if (next && !same(next, current)) {
        current = next;
        tell();
      }
    } catch {
      // the workspace did not answer this time: the topic and the next read remain
    }
  };
  const timer = refreshMs > 0 ? every(refresh, refreshMs) : null;
  timer?.unref?.(); // node (tests) only: a browser's interval has no unref
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
      if (timer !== null) stopEvery(timer);
      statusListeners.clear();
      agent.offAvailabilityStateChanged?.(onChanged);
      known = [];
    },
  };
}
