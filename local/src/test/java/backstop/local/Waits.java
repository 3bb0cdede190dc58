package backstop.local;

import java.time.Duration;

/** How long tests wait for what the system does at once. */
public final class Waits {
    /**
     * For something the stack does at once (a session opening, Offline after a close, an event reaching the bus's
     * recorder). The close path takes about 60 ms here (`local/bin/bench close` has the figures), so the wait only
     * tells "done" from "never": it is wide enough for a busy 2-core machine, where a cold JIT and a loaded moto
     * (one Python process) can stretch one request to seconds. A condition that holds returns at once.
     */
    public static final Duration PROMPT = Duration.ofSeconds(20);

    private Waits() {
    }
}
