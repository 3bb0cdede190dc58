package backstop.core.transition;

import backstop.core.connect.ConnectAgentStatus;
import backstop.core.connect.ConnectFailure;
import backstop.core.events.BackstopEvent;
import backstop.core.events.EventPublisher;
import backstop.core.events.StagedEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;

/**
 * Carries out one claimed Offline transition: PutUserStatus, then the outcome written under the claim
 * (so two workers never both complete it) together with its event's outbox row, in one transaction, then the
 * event published (and its row deleted). A process stopped after the write leaves the row for the relay, so an
 * outcome that reports an event always gets it: DONE {@code Agent Set Offline}, FAILED {@code Agent Offline
 * Failed}. A failure that waiting can fix is scheduled again with backoff; one that cannot, or the last allowed
 * attempt, ends FAILED with an event for on-call. FAILED is not forever: the transition stays in a slow lane,
 * tried every {@link #SLOW_LANE_PERIOD} for {@link #SLOW_LANE_HORIZON} after its failure (Connect recovers, a
 * permission is fixed, a status comes back); a later success publishes Agent Set Offline marked {@code recovered}.
 */
public final class OfflineTransitions {
    private static final Logger LOG = LoggerFactory.getLogger(OfflineTransitions.class);
    /**
     * A container counts at most one hand-over this often: the reconciler looks at the count once a second, and once
     * woken it works every transition due, so more counts would wake nothing more; they would only heat the count's one
     * item (DynamoDB takes at most 1,000 writes a second on one partition).
     */
    static final Duration COUNT_EVERY = Duration.ofSeconds(1);

    private final TransitionStore store;
    private final ConnectAgentStatus connect;
    private final EventPublisher events;
    private final Clock clock;
    private final Backoff backoff;
    private final int maxAttempts;
    private final RandomGenerator random;
    private final Set<String> exemptRoutingProfileIds;
    /** When this container last counted a hand-over (epoch ms): it counts at most one a {@link #COUNT_EVERY}. */
    private final AtomicLong lastCounted = new AtomicLong(Long.MIN_VALUE / 2);

    public OfflineTransitions(TransitionStore store, ConnectAgentStatus connect, EventPublisher events, Clock clock,
                              Backoff backoff, int maxAttempts, RandomGenerator random) {
        this(store, connect, events, clock, backoff, maxAttempts, random, Set.of());
    }

    /** @param exemptRoutingProfileIds asked of Connect before PutUserStatus when a session's exemption was unknown */
    public OfflineTransitions(TransitionStore store, ConnectAgentStatus connect, EventPublisher events, Clock clock,
                              Backoff backoff, int maxAttempts, RandomGenerator random, Set<String> exemptRoutingProfileIds) {
        this.exemptRoutingProfileIds = Set.copyOf(exemptRoutingProfileIds);
        this.store = store;
        this.connect = connect;
        this.events = events;
        this.clock = clock;
        this.backoff = backoff;
        this.maxAttempts = maxAttempts;
        this.random = random;
    }

    public static final Duration SLOW_LANE_PERIOD = Duration.ofMinutes(15);
    public static final Duration SLOW_LANE_HORIZON = Duration.ofDays(1);

    /**
     * What one attempt ended in. FAILED: the fast lane just ran out (alarm, event); STILL_FAILED: a slow-lane
     * attempt failed too (no new alarm), or the slow lane's horizon passed and the transition was given up.
     */
    public enum Result { DONE, RETRY_SCHEDULED, FAILED, STILL_FAILED, CLAIM_LOST, NOT_NEEDED, EXEMPT }

    /** The result, and whether Connect throttled the attempt (for the throttle metric). */
    public record Attempt(Result result, boolean throttled) {
    }

    /**
     * Sets the agent Offline for a transition held under {@code claim}.
     *
     * @param deferred the agent is on a live contact, so Connect queues Offline as their next status
     */
    public Attempt attempt(Transition transition, String claim, Optional<Boolean> deferred) {
        return attempt(transition, claim, deferred, Optional.empty());
    }

    /**
     * As above, with the agent's routing profile as GetCurrentUserData just reported it (the bulk source: the
     * reconciler asks for 100 agents a call), so an unknown exemption costs no call of its own.
     */
    public Attempt attempt(Transition transition, String claim, Optional<Boolean> deferred, Optional<String> routingProfileNow) {
        int attempts = transition.attempts() + 1;
        boolean calling = false;
        try {
            if (transition.checkExemption() && isExempt(transition, routingProfileNow)) {
                boolean ended = store.completeTransition(transition.sessionId(), claim, TransitionState.EXEMPT,
                        transition.attempts(), false, Optional.empty(), clock.instant(), Optional.empty());
                LOG.info("agent {} is exempt (checked before setting Offline, session {})", transition.agent().userId(),
                        transition.sessionId());
                return new Attempt(ended ? Result.EXEMPT : Result.CLAIM_LOST, false);
            }
            calling = true;
            connect.setOffline(transition.agent().userId());
        } catch (ConnectFailure failure) {
            return new Attempt(failed(transition, claim, attempts, failure, calling && failure.mayHaveLanded()), failure.throttled());
        }
        return new Attempt(setOffline(transition, claim, attempts, deferred, ""), false);
    }

    /**
     * The agent is Offline (or has Offline queued) at this attempt: DONE and {@code Agent Set Offline}, written
     * together. {@code how} ends the log line.
     */
    private Result setOffline(Transition transition, String claim, int attempts, Optional<Boolean> deferred, String how) {
        Instant now = clock.instant();
        String reason = attempts == 1 ? transition.reason().value() : TransitionReason.RETRY.value();
        boolean recovered = transition.state() == TransitionState.FAILED;
        StagedEvent event = events.stage(new BackstopEvent.AgentSetOffline(transition.agent().arn(), transition.agent().userId(),
                transition.sessionId().value(), reason, attempts, deferred, recovered, now));
        if (!store.completeTransition(transition.sessionId(), claim, TransitionState.DONE, attempts, deferred.orElse(false),
                Optional.empty(), now, event.row())) {
            LOG.warn("transition {} was completed by another worker", transition.sessionId());
            return Result.CLAIM_LOST;
        }
        events.publishStagedRecorded(event);
        // template.yaml's metric filters count transitions by reason from this exact wording.
        LOG.info("agent {} set Offline (session {}, {}, attempt {}{}{}{})", transition.agent().userId(),
                transition.sessionId(), reason, attempts, deferred.orElse(false) ? ", as next status after the live contact" : "",
                recovered ? ", recovered after failing" : "", how);
        return Result.DONE;
    }

    /**
     * The session registered while Connect could not say the agent's routing profile: ask now. Not knowing still
     * is a failed attempt (retried with backoff), never a PutUserStatus on a guess.
     */
    private boolean isExempt(Transition transition, Optional<String> routingProfileNow) throws ConnectFailure {
        if (exemptRoutingProfileIds.isEmpty()) {
            return false;
        }
        Optional<String> profile = routingProfileNow.isPresent() ? routingProfileNow
                : connect.routingProfileOf(transition.agent().userId());
        return profile.filter(exemptRoutingProfileIds::contains).isPresent();
    }

    /**
     * Gives a claimed transition back untried, due now, for the reconciler: this worker gets no turn in the shared
     * Connect budget soon enough. Not an attempt, so nothing is counted against it (a throttle is never a FAILED).
     * The hand-over is counted ({@link TransitionStore#countHandOver}), which wakes an idle reconciler within seconds.
     */
    public boolean handOver(Transition transition, String claim, String why) {
        boolean released = store.releaseClaim(transition.sessionId(), claim, clock.instant());
        LOG.info("agent {} left to the reconciler (session {}): {}", transition.agent().userId(), transition.sessionId(), why);
        long now = clock.millis();
        long last = lastCounted.get();
        if (released && now - last >= COUNT_EVERY.toMillis() && lastCounted.compareAndSet(last, now)) {
            try {
                store.countHandOver();
            } catch (RuntimeException e) {
                // The transition is due all the same: the reconciler's next stale sweep finds it, a sweep interval later.
                LOG.warn("hand-over of session {} not counted ({}): the reconciler works it at its next sweep",
                        transition.sessionId(), e.toString());
            }
        }
        return released;
    }

    /**
     * Ends a claimed transition whose agent Connect shows Offline (or with Offline queued) before any call of this
     * attempt. When an earlier attempt's PutUserStatus may have landed unseen ({@link Transition#callMayHaveLanded()}),
     * that call is taken to have done it: DONE with {@code Agent Set Offline} (attempts: those made). Otherwise the
     * agent went Offline by other means: NOT_NEEDED, no event.
     */
    public Result alreadyOffline(Transition transition, String claim) {
        if (!transition.callMayHaveLanded()) {
            return notNeeded(transition, claim, "agent already Offline");
        }
        return setOffline(transition, claim, transition.attempts(), Optional.empty(),
                ", seen Offline after an attempt whose answer was lost");
    }

    /**
     * Ends a claimed transition without calling PutUserStatus: the agent is already Offline (or has Offline
     * queued), or they are working again in a newer session.
     */
    public Result notNeeded(Transition transition, String claim, String why) {
        boolean ended = store.completeTransition(transition.sessionId(), claim, TransitionState.NOT_NEEDED,
                transition.attempts(), false, Optional.of(why), clock.instant(), Optional.empty());
        LOG.info("agent {} needs no Offline (session {}): {}", transition.agent().userId(), transition.sessionId(), why);
        return ended ? Result.NOT_NEEDED : Result.CLAIM_LOST;
    }

    /** @param mayHaveLanded this attempt's PutUserStatus went out and may have landed though it failed */
    private Result failed(Transition transition, String claim, int attempts, ConnectFailure failure, boolean mayHaveLanded) {
        Instant now = clock.instant();
        if (transition.state() == TransitionState.FAILED) {
            return failedAgain(transition, claim, attempts, failure, now, mayHaveLanded);
        }
        // A throttle says the quota is busy, not that this agent cannot be set Offline: it is retried, never FAILED.
        if (failure.retryable() && (attempts < maxAttempts || failure.throttled() || ConnectFailure.NO_TURN.equals(failure.code()))) {
            Instant next = now.plus(backoff.after(attempts, random));
            boolean recorded = store.recordFailedAttempt(transition.sessionId(), claim, attempts, failure.code(), next,
                    mayHaveLanded);
            LOG.warn("agent {} not set Offline yet (session {}, attempt {}/{}): {}; next try at {}",
                    transition.agent().userId(), transition.sessionId(), attempts, maxAttempts, failure.code(), next);
            return recorded ? Result.RETRY_SCHEDULED : Result.CLAIM_LOST;
        }
        StagedEvent event = events.stage(new BackstopEvent.AgentOfflineFailed(transition.agent().arn(),
                transition.agent().userId(), transition.sessionId().value(), attempts, failure.code(), now));
        if (!store.failIntoSlowLane(transition.sessionId(), claim, attempts, failure.code(), now, now.plus(SLOW_LANE_PERIOD),
                mayHaveLanded, event.row())) {
            return Result.CLAIM_LOST;
        }
        LOG.error("agent {} could not be set Offline (session {}, {} attempts): {}; tried again every {} min for {} h",
                transition.agent().userId(), transition.sessionId(), attempts, failure.code(),
                SLOW_LANE_PERIOD.toMinutes(), SLOW_LANE_HORIZON.toHours());
        events.publishStagedRecorded(event);
        return Result.FAILED;
    }

    /** A slow-lane attempt failed: again in a period, or given up once the horizon since the first failure passed. */
    private Result failedAgain(Transition transition, String claim, int attempts, ConnectFailure failure, Instant now,
                               boolean mayHaveLanded) {
        Instant failedAt = transition.completedAt().orElse(now);
        Instant next = now.plus(SLOW_LANE_PERIOD);
        if (next.isBefore(failedAt.plus(SLOW_LANE_HORIZON))) {
            boolean kept = store.failIntoSlowLane(transition.sessionId(), claim, attempts, failure.code(), now, next,
                    mayHaveLanded, Optional.empty());
            LOG.warn("agent {} still not set Offline (session {}, attempt {}): {}; next try at {}",
                    transition.agent().userId(), transition.sessionId(), attempts, failure.code(), next);
            return kept ? Result.STILL_FAILED : Result.CLAIM_LOST;
        }
        boolean ended = store.completeTransition(transition.sessionId(), claim, TransitionState.FAILED, attempts, false,
                Optional.of(failure.code()), now, Optional.empty());
        LOG.error("agent {} given up (session {}, {} attempts over {} h): {}", transition.agent().userId(),
                transition.sessionId(), attempts, SLOW_LANE_HORIZON.toHours(), failure.code());
        return ended ? Result.STILL_FAILED : Result.CLAIM_LOST;
    }
}
