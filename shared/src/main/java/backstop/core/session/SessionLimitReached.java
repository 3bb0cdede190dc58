package backstop.core.session;

/** The agent already has the configured number of open sessions: the register is refused, nothing written. */
public final class SessionLimitReached extends RuntimeException {
    private final int open;

    public SessionLimitReached(int open) {
        super("the agent already has " + open + " open sessions", null, false, false);
        this.open = open;
    }

    public int open() {
        return open;
    }
}
