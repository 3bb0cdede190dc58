package backstop.local.connect;

/**
 * Connect's per-account, per-operation request quota as the emulator enforces it.
 * The documented default for PutUserStatus and GetCurrentUserData is 2 requests/s with a burst of 5.
 */
public record Quota(boolean enabled, double ratePerSecond, int burst) {
    public static final Quota CONNECT_DEFAULT = new Quota(true, 2, 5);
    public static final Quota OFF = new Quota(false, 1, 1);

    public Quota {
        if (enabled && (!(ratePerSecond > 0) || burst < 1)) {
            throw new IllegalArgumentException("quota needs ratePerSecond > 0 and burst >= 1");
        }
    }
}
