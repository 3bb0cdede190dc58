package backstop.core.transition;

import backstop.core.session.SessionId;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Due transitions as work: found through the sparse due index, claimed under a lease, given back. The reconciler's. */
public interface TransitionQueue extends TransitionStore {

    /** Transitions of one index shard due at {@code now} (sparse index, no scan). */
    List<Transition> findDueTransitions(int shard, Instant now, int limit);

    /** How many transitions are due at {@code now}, over all shards (the backlog metric). */
    long countDueTransitions(Instant now);

    /**
     * Takes a due transition under a lease: it is ours until {@code leaseUntil}, then anyone's again (so a
     * crashed worker never strands it). Empty when it is not due any more (someone else claimed or ended it).
     */
    Optional<Transition> claim(SessionId id, String claim, Instant now, Instant leaseUntil);

    /** How many hand-overs were counted ({@link #countHandOver}) in the table's life: only its changes mean anything. */
    long handOvers();
}
