package backstop.core.session;

import backstop.core.WireValue;

/** Why a session closed. */
public enum CloseReason implements WireValue {
    /** The page's close beacon (pagehide): the tab was closed, reloaded or navigated away. */
    TAB_CLOSED("tab-closed"),
    /** The agent signed out in the page. */
    LOGOUT("logout"),
    /** No heartbeat for STALE_AFTER_SECONDS: crash, sleep, network loss. */
    STALE("stale"),
    /**
     * The page registered a new session in its place (renewed ahead of the session's end) and closed this one: while
     * the new one is open this sets nobody Offline; when the new one closed first (the tab closed in between), it is a
     * closed tab's close.
     */
    REPLACED("replaced"),
    /**
     * The session passed its maximum age (MAX_SESSION_HOURS): closed by the heartbeat that found it, which sets
     * nobody Offline at once. When it was the agent's last session, its transition waits a stale limit for the
     * page's new register, which makes it not needed (a crashed tab whose token someone else kept beating has none).
     */
    EXPIRED("expired");

    private final String value;

    CloseReason(String value) {
        this.value = value;
    }

    @Override
    public String value() {
        return value;
    }

    public static CloseReason parse(String value) {
        return WireValue.find(CloseReason.class, value).orElseThrow(() -> new IllegalArgumentException("unknown close reason " + value));
    }

    /**
     * The reason a page may send with its close beacon: {@code logout} is a logout, {@code replaced} a session the
     * page renewed, anything else a closed tab (pagehide, unload, navigation...). Unknown words are not an error:
     * beacons from older pages still count.
     */
    public static CloseReason fromBeacon(String reason) {
        return switch (reason) {
            case "logout" -> LOGOUT;
            case "replaced" -> REPLACED;
            default -> TAB_CLOSED;
        };
    }
}
