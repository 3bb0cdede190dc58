package backstop.core.transition;

import backstop.core.events.EventOutbox;
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
     * it took; it leaves the due index. {@code event}, the outbox row of the event reporting this outcome, is
     * written in the same transaction (both or neither). False when the claim was lost (nothing written).
     */
    boolean completeTransition(SessionId id, String claim, TransitionState state, int attempts, boolean deferred,
                               Optional<String> error, Instant now, Optional<EventOutbox.Kept> event);

    /**
     * Records that the fast lane failed (FAILED, on-call alarmed) but keeps the transition due at
     * {@code nextAttemptAt} in the slow lane, where a later attempt under a new claim can still end it. The time
     * of the first failure is kept ({@link Transition#completedAt()}); {@code event} is written in the same
     * transaction, as for {@link #completeTransition}; false when the claim was lost.
     *
     * @param callMayHaveLanded this attempt's PutUserStatus may have landed unseen: remembered for good
     */
    boolean failIntoSlowLane(SessionId id, String claim, int attempts, String error, Instant now, Instant nextAttemptAt,
                             boolean callMayHaveLanded, Optional<EventOutbox.Kept> event);

    /**
     * Releases the claim after a failed attempt and schedules the next one; false when the claim was lost.
     *
     * @param callMayHaveLanded this attempt's PutUserStatus may have landed unseen: remembered for good
     */
    boolean recordFailedAttempt(SessionId id, String claim, int attempts, String error, Instant nextAttemptAt,
                                boolean callMayHaveLanded);

    /**
     * Gives a claimed transition back untried, due at {@code dueAt} (the sweep passes the time it was due before its
     * claim, so it keeps its place in the queue; a close handing over passes now); false when the claim was lost.
     */
    boolean releaseClaim(SessionId id, String claim, Instant dueAt);

    /**
     * Counts a hand-over: a close gave its transition back, due now, for want of a Connect turn. The reconciler, idle
     * between stale sweeps, reads the count every {@code HANDOVER_POLL} and works the due transitions as soon as it
     * moves, instead of at its next sweep (up to a sweep interval later).
     */
    void countHandOver();
}
