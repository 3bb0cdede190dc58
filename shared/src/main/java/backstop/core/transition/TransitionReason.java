package backstop.core.transition;

/** Why the agent is being set Offline, as events report it. */
public enum TransitionReason {
    TAB_CLOSED("tab-closed"), STALE_SESSION("stale-session"), RETRY("retry");

    private final String value;

    TransitionReason(String value) {
        this.value = value;
    }

    public String value() {
        return value;
    }

    public static TransitionReason parse(String value) {
        for (TransitionReason reason : values()) {
            if (reason.value.equals(value)) {
                return reason;
            }
        }
        throw new IllegalArgumentException("unknown transition reason " + value);
    }
}
