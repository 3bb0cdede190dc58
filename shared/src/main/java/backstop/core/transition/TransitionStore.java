package backstop.core.transition;

import backstop.core.session.SessionId;

import java.time.Instant;
import java.util.Optional;

/**
 * One transition's outcome, written under the claim that holds it: what {@link OfflineTransitions} and the beacon
 * need. Finding and claiming due work is {@link TransitionQueue}'s (the reconciler's).
 */
public interface TransitionStore {

    Optional<Transition> findTransition(SessionId id);

    /**
     * Ends a transition held under {@code claim} (PENDING, or FAILED in the slow lane), recording how many attempts
     * it took; it leaves the due index. False when the claim was lost (nothing written).
     */
    boolean completeTransition(SessionId id, String claim, TransitionState state, int attempts, boolean deferred,
                               Optional<String> error, Instant now);

    /**
     * Records that the fast lane failed (FAILED, on-call alarmed) but keeps the transition due at
     * {@code nextAttemptAt} in the slow lane, where a later attempt under a new claim can still end it. The time
     * of the first failure is kept ({@link Transition#completedAt()}); false when the claim was lost.
     */
    boolean failIntoSlowLane(SessionId id, String claim, int attempts, String error, Instant now, Instant nextAttemptAt);

    /** Releases the claim after a failed attempt and schedules the next one; false when the claim was lost. */
    boolean recordFailedAttempt(SessionId id, String claim, int attempts, String error, Instant nextAttemptAt);
}
