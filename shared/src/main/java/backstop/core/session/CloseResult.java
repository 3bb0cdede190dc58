package backstop.core.session;

import backstop.core.transition.OfflineOutcome;
import backstop.core.transition.Transition;

import java.util.Optional;

/** What a close did. */
public sealed interface CloseResult {
    /** This call closed the session; {@code transition} is there when the agent has no other open session. */
    record Closed(OfflineOutcome outcome, Optional<Transition> transition) implements CloseResult {
    }

    /** The session was closed before (a duplicate beacon, or the sweep got there first). */
    record AlreadyClosed(Session session) implements CloseResult {
    }

    /** The stale sweep lost to a heartbeat: the session is alive and stays open. */
    record StillAlive() implements CloseResult {
    }
}
