package backstop.core.config;

import backstop.core.WireValue;

/** What a reload does to the status the agent had: restore it (default), or leave them Offline. */
public enum ReloadPolicy implements WireValue {
    RESTORE("restore"), STAY_OFFLINE("stay-offline");

    private final String value;

    ReloadPolicy(String value) {
        this.value = value;
    }

    @Override
    public String value() {
        return value;
    }

    public static ReloadPolicy parse(String text) {
        return WireValue.find(ReloadPolicy.class, text).orElseThrow(() -> new IllegalArgumentException("must be restore or stay-offline"));
    }
}
