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
// - connect.core.terminate() drops the agent data provider (an Agent's getters then throw) and unsubscribes all;
//   a new initCCP builds a new event bus (connect.core.eventBus), which no earlier connect.agent(cb) is on.
//   connect.agent(cb) calls cb at once when the agent is already known.
// - a contact stays in agent.getContacts() through after-call work, its status then 'ended'; a live one is in
//   connect.CONTACT_ACTIVE_STATES (incoming, pending, connecting, connected, paused).

/** A listener list whose listeners cannot break each other or the caller: a throwing one is reported. */
function listeners() {
  const list = new Set();
  return {
    add(listener) { list.add(listener); return () => list.delete(listener); },
    tell(...args) {
      [...list].forEach((listener) => {
        try {
          listener(...args);
        } catch (error) {
          console.error('ccp-backstop: a Streams listener threw', error);
        }
      });
    },
    clear() { list.clear(); },
  };
}

/**
 * @param {object} connect  the amazon-connect-streams global
 * @param {object} [options]
 * @param {number} [options.watchMs]  how often to look for a new initCCP's event bus (after terminate())
 */
export function createStreamsAdapter(connect, { watchMs = 1000, setInterval: every = globalThis.setInterval.bind(globalThis),
  clearInterval: cancel = globalThis.clearInterval.bind(globalThis) } = {}) {
  let agent = null;
  let seen = null; // what listeners last heard of: state, next state, contacts
  const agentListeners = listeners();
  const statusListeners = listeners();
  const choiceListeners = listeners();
  let bus; // the event bus our subscriptions are on
  let subscriptions = [];

  const ACTIVE = new Set(Object.values(connect.CONTACT_ACTIVE_STATES ?? {}).length
    ? Object.values(connect.CONTACT_ACTIVE_STATES) : ['incoming', 'pending', 'connecting', 'connected', 'paused']);
  /** Contacts still live: after-call work keeps an ended one in the list, and closing the tab then drops nothing. */
  function liveContacts() {
    return agent.getContacts().filter((contact) => {
      try {
        const type = (contact.getStatus ?? contact.getState)?.call(contact)?.type;
        return type === undefined || ACTIVE.has(type); // a status we cannot read counts as live: the guard errs safe
      } catch {
        return true;
      }
    });
  }

  const stateOf = (s) => (s ? { name: s.name, arn: s.agentStateARN ?? null, type: s.type } : null);

  function signature() {
    const state = agent.getState();
    return [state?.name, state?.agentStateARN, agent.getNextState?.()?.name, agent.getContacts().length, liveContacts().length].join('|');
  }

  function refreshed() {
    if (!live()) return;
    const now = signature();
    if (now === seen) return;
    seen = now;
    statusListeners.tell();
  }

  const currentBus = () => connect.core?.getEventBus?.() ?? null;
  /** The agent, while Streams still has its data (not after connect.core.terminate()). */
  function live() {
    if (agent && connect.core?.getAgentDataProvider && !connect.core.getAgentDataProvider()) agent = null;
    return agent;
  }

  function subscribe() {
    bus = currentBus();
    subscriptions = [connect.agent((a) => {
      agent = a;
      seen = signature();
      subscriptions.push(a.onStateChange(refreshed), a.onRefresh?.(refreshed));
      agentListeners.tell();
    })];
  }

  subscribe();
  // Log out and in again (terminate(), then initCCP) leaves our subscriptions on a dead bus: follow the new one.
  const watch = every(() => {
    if (currentBus() !== bus) subscribe();
  }, watchMs);

  const offlineState = () => live()?.getAgentStates().find((s) => s.type === (connect.AgentStateType?.OFFLINE ?? 'offline'));

  return {
    /** Streams reports the agent: once per initCCP. Returns a function that removes the listener. */
    onAgent(listener) { const off = agentListeners.add(listener); if (live()) listener(); return off; },
    /** Any change the page shows: the state, the queued next state, a contact starting or ending. */
    onStatusChange(listener) { return statusListeners.add(listener); },
    /** A status the agent chose through this adapter (the page's own buttons). */
    onAgentChoice(listener) { return choiceListeners.add(listener); },
    agentArn() { return agent.getAgentARN(); },
    agentName() { return agent.getName(); },
    /** What Streams shows now, system states (AfterCallWork...) included: their arn may be null. */
    currentStatus() { return live() ? stateOf(agent.getState()) : null; },
    /**
     * The status the agent chose (never a contact-driven system state): what the server records and what a
     * reload restores. In after-call work this is the status behind it, found by name among the agent's states.
     */
    chosenStatus() {
      if (!live()) return null;
      const state = agent.getState();
      if (state?.agentStateARN) return stateOf(state);
      const chosen = agent.getAvailabilityState?.()?.state;
      return stateOf(agent.getAgentStates().find((s) => s.agentStateARN && s.name === chosen));
    },
    nextStatus() { return live()?.getNextState?.()?.name ?? null; },
    /** A contact is live (not in after-call work): what the leave-page guard asks. */
    onContact() { return live() ? liveContacts().length > 0 : false; },
    statuses() { return live() ? agent.getAgentStates().map(stateOf) : []; },
    /**
     * The seed recipe: ask for the OFFLINE-type state and do not wait (the page is going away). Queued behind a
     * live contact, as Streams requires, since the leave-page guard exists for exactly that case.
     */
    setOfflineBestEffort() {
      const offline = offlineState();
      if (offline) live().setState(offline, { success() {}, failure() {} }, { enqueueNextState: true });
    },
    /** Sets one of the agent's statuses; rejects (never throws) for a status this agent does not have. */
    setStatus(status) {
      const target = live()?.getAgentStates().find((s) => status?.arn && s.agentStateARN === status.arn);
      if (!target) return Promise.reject(new Error(`unknown status ${status?.name ?? status?.arn ?? status}`));
      choiceListeners.tell(status);
      return new Promise((resolve, reject) => agent.setState(target, { success: resolve, failure: reject }));
    },
    /** Stops following Streams: the watch for a new initCCP, our Streams subscriptions and every listener. */
    destroy() {
      cancel(watch);
      subscriptions.forEach((sub) => { try { sub?.unsubscribe?.(); } catch { /* a terminated bus */ } });
      subscriptions = [];
      [agentListeners, statusListeners, choiceListeners].forEach((list) => list.clear());
      agent = null;
    },
  };
}
