package backstop.core.session;

/**
 * Whether an agent's routing profile keeps them from being set Offline, as known when their session registered.
 * UNKNOWN (Connect could not be asked: throttled, unavailable) is never taken as "not exempt": the Offline path
 * asks Connect again before PutUserStatus, so a supervisor is never set Offline on a guess.
 */
public enum Exemption {
    EXEMPT, NOT_EXEMPT, UNKNOWN;

    public static Exemption of(boolean exempt) {
        return exempt ? EXEMPT : NOT_EXEMPT;
    }
}
