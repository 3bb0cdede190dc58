// The local stand-in for amazon-connect-streams, backed by the Connect emulator: the same adapter surface
// as streams-adapter.js, so the backstop runs unchanged. Status changes go through the emulator's admin
// surface as the agent's own CCP would make them (not through Connect's public API and its quota).

export function createSimulatedStreams({ emulatorBase, instanceId, instanceArn, userId, fetch = globalThis.fetch.bind(globalThis), pollMs = 1000 }) {
  const base = `${emulatorBase}/_emulator/instances/${encodeURIComponent(instanceId)}`;
  let agent = null;
  let statuses = [];
  const agentListeners = [];
  const statusListeners = [];
  const choiceListeners = [];
  let timer = null;

  const statusArn = (id) => `${instanceArn}/agent-state/${id}`;
  const putStatus = (status) => fetch(`${base}/agents/${encodeURIComponent(userId)}/status`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ statusId: status.arn.slice(status.arn.lastIndexOf('/') + 1) }),
  });

  async function load() {
    const [instance, view] = await Promise.all([
      fetch(base).then((r) => r.json()),
      fetch(`${base}/agents/${encodeURIComponent(userId)}`).then((r) => {
        if (!r.ok) throw new Error(`unknown demo agent ${userId}`);
        return r.json();
      }),
    ]);
    statuses = instance.statuses.map((s) => ({ name: s.name, arn: statusArn(s.id), type: s.type.toLowerCase() }));
    return view;
  }

  function update(view) {
    const before = agent ? `${agent.statusId}|${agent.nextStatusName}|${agent.contactId}` : null;
    agent = view;
    if (before !== null && before !== `${view.statusId}|${view.nextStatusName}|${view.contactId}`) {
      statusListeners.forEach((listener) => listener());
    }
  }

  return {
    async connect() {
      update(await load());
      agentListeners.forEach((listener) => listener());
      timer = setInterval(async () => {
        try {
          update(await fetch(`${base}/agents/${encodeURIComponent(userId)}`).then((r) => r.json()));
        } catch {
          // emulator restarting: keep the last view
        }
      }, pollMs);
    },
    disconnect() { clearInterval(timer); },
    onAgent(listener) { agentListeners.push(listener); if (agent) listener(); },
    onStatusChange(listener) { statusListeners.push(listener); },
    onAgentChoice(listener) { choiceListeners.push(listener); },
    agentArn() { return `${instanceArn}/agent/${userId}`; },
    agentName() { return agent ? `${agent.firstName} ${agent.lastName}` : userId; },
    currentStatus() {
      return agent ? { name: agent.statusName, arn: statusArn(agent.statusId), type: agent.statusType.toLowerCase() } : null;
    },
    nextStatus() { return agent?.nextStatusName ?? null; },
    onContact() { return Boolean(agent?.contactId); },
    statuses() { return statuses; },
    async setStatus(status) {
      if (!statuses.some((s) => status?.arn && s.arn === status.arn)) throw new Error(`unknown status ${status?.name ?? status}`);
      choiceListeners.forEach((listener) => listener(status));
      update(await putStatus(status).then((r) => r.json()));
      statusListeners.forEach((listener) => listener());
    },
    /** The seed recipe, as unreliable as the real one: a plain request the closing page may never finish. */
    setOfflineBestEffort() {
      const offline = statuses.find((s) => s.type === 'offline');
      if (offline) putStatus(offline).catch(() => {});
    },
  };
}
