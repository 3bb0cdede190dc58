package backstop.core.session;

/** OPEN until closed once, by the beacon, a logout, the stale sweep or a replacement; never reopened. */
public enum SessionState { OPEN, CLOSED }
