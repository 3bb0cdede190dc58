package backstop.core.session;

import backstop.core.agent.AgentRef;

import java.util.Optional;

/**
 * A heartbeat's outcome and, when it was recorded, whose session it kept alive (read back from the same write,
 * at no extra cost), so the caller can tell the page about the agent's other sessions.
 */
public record Heartbeat(HeartbeatResult result, Optional<AgentRef> agent) {

    public static Heartbeat refused(HeartbeatResult result) {
        return new Heartbeat(result, Optional.empty());
    }
}
