package backstop.core.config;

/** What a reload does to the status the agent had: restore it (default), or leave them Offline. */
public enum ReloadPolicy {
    RESTORE("restore"), STAY_OFFLINE("stay-offline");

    private final String value;

    ReloadPolicy(String value) {
        this.value = value;
    }

    public String value() {
        return value;
    }

    public static ReloadPolicy parse(String text) {
        for (ReloadPolicy policy : values()) {
            if (policy.value.equals(text)) {
                return policy;
            }
        }
        throw new IllegalArgumentException("must be restore or stay-offline");
    }
}
