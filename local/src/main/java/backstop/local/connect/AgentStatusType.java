package backstop.local.connect;

/** Connect's agent status types. */
public enum AgentStatusType { ROUTABLE, CUSTOM, OFFLINE }
