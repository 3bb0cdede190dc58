// A fake of amazon-connect-streams with its log-out and log-in lifecycle, for the adapter's and the client's tests.
/**
 * The parts of Streams 2.28.2 (release/connect-streams.js) a log-out and log-in goes through: connect.agent(f)
 * subscribes to the current event bus and calls f at once when the agent is known; an Agent reads
 * connect.core.getAgentDataProvider() on every getter; terminate() unsubscribes all and drops the data provider
 * (its getters then throw a TypeError); initCCP builds a new connect.core.eventBus.
 */
export function streamsWithLifecycle(states) {
  class EventBus {
    constructor() { this.subs = new Map(); }
    subscribe(event, f) {
      const list = this.subs.get(event) ?? new Set();
      list.add(f);
      this.subs.set(event, list);
      return { unsubscribe: () => list.delete(f) };
    }
    unsubscribeAll() { this.subs.clear(); }
    trigger(event, data) { [...(this.subs.get(event) ?? [])].forEach((f) => f(data)); }
  }
  const connect = {
    AgentStateType: { OFFLINE: 'offline' },
    core: {
      eventBus: new EventBus(),
      agentDataProvider: null,
      getEventBus() { return this.eventBus; },
      getAgentDataProvider() { return this.agentDataProvider; },
      terminate() {
        this.eventBus.unsubscribeAll();
        this.bus = new EventBus(); // sic: Streams assigns `bus`, not `eventBus`
        this.agentDataProvider = null;
        connect.agent.initialized = false;
      },
      initCCP() { this.eventBus = new EventBus(); },
      /** The CCP reports the agent (AgentEvents.INIT) with a state. */
      agentArrives(arn, state) {
        this.agentDataProvider = { data: { arn, state } };
        connect.agent.initialized = true;
        this.eventBus.trigger('agent::init', new Agent());
      },
    },
    agent(f) {
      const sub = connect.core.getEventBus().subscribe('agent::init', f);
      if (connect.agent.initialized) f(new Agent());
      return sub;
    },
  };
  class Agent {
    data() { return connect.core.getAgentDataProvider().data; } // a TypeError after terminate(), as in Streams
    getAgentARN() { return this.data().arn; }
    getState() { return this.data().state; }
    getNextState() { return null; }
    getContacts() { return []; }
    getAgentStates() { return states; }
    getAvailabilityState() { return { state: this.data().state.name }; }
    onStateChange(f) { return connect.core.getEventBus().subscribe('agent::statechange', f); }
    onRefresh(f) { return connect.core.getEventBus().subscribe('agent::refresh', f); }
  }
  return connect;
}

