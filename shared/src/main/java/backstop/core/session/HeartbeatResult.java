package backstop.core.session;

/** What a heartbeat found. */
public enum HeartbeatResult {
    RECORDED, UNKNOWN_SESSION, BAD_TOKEN, SESSION_CLOSED,
    /** The session's previous heartbeat is too recent: a flood from one session is refused without a write. */
    TOO_FREQUENT,
    /** The session is past its maximum age ({@link SessionLifetime}): the beat is refused, nothing written. */
    EXPIRED
}
