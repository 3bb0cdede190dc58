package backstop.core.session;

/** What a heartbeat found. */
public enum HeartbeatResult { RECORDED, UNKNOWN_SESSION, BAD_TOKEN, SESSION_CLOSED }
