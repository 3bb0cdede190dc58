package backstop.beacon;

/**
 * Why {@link BeaconService} refused a request, in its own words: no status code, so a reconciler or a WebSocket can
 * reuse the rules. The HTTP edge answers each with one status, code and message ({@link BeaconApi#error}).
 */
public enum Refusal {
    /** No claims of a validated token reached the function: nobody is signed in. */
    UNAUTHENTICATED,
    /** The agent belongs to a Connect instance this backstop does not serve. */
    FOREIGN_INSTANCE,
    /** The token lacks the configured identity claim. */
    IDENTITY_CLAIM_MISSING,
    /** The identity claim is an e-mail the identity provider did not verify, so it names nobody. */
    IDENTITY_CLAIM_UNVERIFIED,
    /** Connect has no such user (now, or remembered from an earlier DescribeUser). */
    UNKNOWN_AGENT,
    /** Connect could not be asked who a never-seen agent is: nothing is known to compare with, for now. */
    IDENTITY_UNVERIFIABLE,
    /** The signed-in user is not the agent in the request. */
    IDENTITY_MISMATCH,
    /** The agent has the most open sessions allowed. */
    TOO_MANY_SESSIONS,
    /** No such session (never issued here, or no longer stored). */
    UNKNOWN_SESSION,
    /** The token does not belong to the session. */
    BAD_TOKEN,
    /** The session is closed. */
    SESSION_CLOSED,
    /** The session reached its maximum age (and is closed now). */
    SESSION_EXPIRED,
    /** Heartbeats of the session come closer together than a real page sends them. */
    HEARTBEAT_TOO_FREQUENT
}
