package backstop.core.transition;

import backstop.core.WireValue;

/** Why the agent is being set Offline, as events report it. */
public enum TransitionReason implements WireValue {
    TAB_CLOSED("tab-closed"), STALE_SESSION("stale-session"), RETRY("retry"),
    /** The agent's last session passed its maximum age and no page registered again within a stale limit. */
    SESSION_EXPIRED("session-expired");

    private final String value;

    TransitionReason(String value) {
        this.value = value;
    }

    @Override
    public String value() {
        return value;
    }

    public static TransitionReason parse(String value) {
        return WireValue.find(TransitionReason.class, value).orElseThrow(() -> new IllegalArgumentException("unknown transition reason " + value));
    }
}
