package backstop.reconciler;

import backstop.core.agent.AgentRef;
import backstop.core.connect.AgentSnapshot;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.connect.ConnectFailure;
import backstop.core.events.BatchingEventPublisher;
import backstop.core.session.AgentRecord;
import backstop.core.session.SessionId;
import backstop.core.session.SessionStore;
import backstop.core.session.TableLayout;
import backstop.core.transition.OfflineTransitions;
import backstop.core.transition.Transition;
import backstop.core.transition.TransitionQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Works through due PENDING transitions a chunk at a time. A chunk is prepared (found through the sparse
 * index, claimed under a lease, agents working again in a newer session set aside, one GetCurrentUserData per
 * 100 agents to skip those already Offline and flag those on a live contact) and then executed: PutUserStatus
 * paced by the token bucket and pipelined, since Connect's answer takes longer than the pacing interval.
 * The next chunk is prepared while the last calls of the current one go out, so the quota never idles between
 * chunks; it is prepared that late (not earlier) so its checks are fresh when its calls are made.
 */
public final class DueTransitionSweep {
    private static final Logger LOG = LoggerFactory.getLogger(DueTransitionSweep.class);
    static final int MAX_CHUNK = ConnectAgentStatus.MAX_AGENTS_PER_LOOKUP;
    /** At least this many per chunk, so one GetCurrentUserData serves >= 50 transitions (<= 1.02 calls each). */
    static final int MIN_CHUNK = 50;
    static final int MAX_IN_FLIGHT = 32;
    /** Slack on top of a chunk's paced duration before another worker may take its transitions over. */
    static final Duration LEASE_SLACK = Duration.ofSeconds(30);

    private final SessionStore sessions;
    private final TransitionQueue store;
    private final ConnectAgentStatus connect;
    private final OfflineTransitions transitions;
    private final BatchingEventPublisher events;
    private final ReconcilerMetrics metrics;
    private final Clock clock;
    private final double ratePerSecond;
    private int nextShard;

    public DueTransitionSweep(SessionStore sessions, TransitionQueue store, ConnectAgentStatus connect,
                              OfflineTransitions transitions, BatchingEventPublisher events, ReconcilerMetrics metrics,
                              Clock clock, double ratePerSecond) {
        this.sessions = sessions;
        this.store = store;
        this.connect = connect;
        this.transitions = transitions;
        this.events = events;
        this.metrics = metrics;
        this.clock = clock;
        this.ratePerSecond = ratePerSecond;
    }

    /**
     * A claimed chunk, checked against Connect and ready for PutUserStatus. {@code deferredByUser}: whether each
     * agent Connect reported is on a live contact; an agent it did not report (or no answer at all) is absent, so
     * the event leaves {@code deferred} out instead of claiming false (docs/events.md).
     */
    private record Prepared(String claim, List<Transition> toSet, Map<String, Boolean> deferredByUser,
                            Map<String, String> profileByUser, Map<SessionId, Instant> dueAt) {
        static final Prepared EMPTY = new Prepared("", List.of(), Map.of(), Map.of(), Map.of());

        boolean isEmpty() {
            return toSet.isEmpty();
        }
    }

    /**
     * Works chunks of at most {@code chunkLimit} transitions until nothing is due or a chunk would not fit
     * before {@code stopBy} at the paced rate; returns how many transitions it claimed.
     */
    public int processDue(int chunkLimit, Instant stopBy) {
        int total = 0;
        Instant now = clock.instant();
        Prepared current = prepare(chunkSize(chunkLimit, now, stopBy, 0), now);
        if (current == Prepared.EMPTY) {
            return 0; // nothing due: no second look (each look reads every shard's due index)
        }
        while (current != null) {
            total += current.toSet().size();
            CompletableFuture<Prepared> next = new CompletableFuture<>();
            AtomicBoolean prefetching = new AtomicBoolean();
            int queued = (int) Math.ceil(ratePerSecond * 3);
            execute(current, () -> prefetch(next, prefetching, chunkLimit, stopBy, queued), stopBy);
            prefetch(next, prefetching, chunkLimit, stopBy, 0); // no-op when the chunk already started it
            current = next.join();
            if (current.isEmpty()) {
                current = null;
            }
        }
        return total;
    }

    /** The most transitions that fit before {@code stopBy} after {@code queuedCalls} still to go out. */
    private int chunkSize(int chunkLimit, Instant now, Instant stopBy, int queuedCalls) {
        double seconds = Duration.between(now, stopBy).toMillis() / 1000.0 - queuedCalls / ratePerSecond;
        return (int) Math.max(0, Math.min(chunkLimit, Math.floor(seconds * ratePerSecond)));
    }

    /** Prepares the next chunk once (a second call does nothing: two would claim two chunks, one dropped). */
    private void prefetch(CompletableFuture<Prepared> next, AtomicBoolean started, int chunkLimit, Instant stopBy,
                          int queuedCalls) {
        if (!started.compareAndSet(false, true)) {
            return;
        }
        Instant now = clock.instant();
        Thread.ofVirtual().name("prepare-chunk").start(() -> {
            try {
                next.complete(prepare(chunkSize(chunkLimit, now, stopBy, queuedCalls), now));
            } catch (RuntimeException e) {
                LOG.error("preparing the next chunk failed; its transitions stay due", e);
                next.complete(Prepared.EMPTY);
            }
        });
    }

    /** Waits until every event of the chunks worked so far is published (before the invocation ends). */
    public void awaitEvents() {
        events.awaitPublished();
    }

    private Prepared prepare(int size, Instant now) {
        if (size <= 0) {
            return Prepared.EMPTY;
        }
        List<Transition> due = findDue(now, size);
        if (due.isEmpty()) {
            return Prepared.EMPTY;
        }
        String claim = UUID.randomUUID().toString();
        // The lease covers this chunk's calls and the ones still queued before it, at the paced rate.
        Instant leaseUntil = now.plus(Duration.ofMillis((long) (2000 * due.size() / ratePerSecond))).plus(LEASE_SLACK);
        List<Transition> claimed = claimAll(due, claim, now, leaseUntil);
        // The claim moves nextAttemptAt to the lease's end: what a transition given back untried returns to.
        Map<SessionId, Instant> dueAt = new java.util.HashMap<>();
        due.forEach(transition -> dueAt.put(transition.sessionId(), transition.nextAttemptAt()));
        Map<AgentRef, AgentRecord> agents = sessions.findAgents(claimed.stream().map(Transition::agent).toList());
        List<Transition> toCheck = new ArrayList<>();
        for (Transition transition : claimed) {
            boolean working = Optional.ofNullable(agents.get(transition.agent()))
                    .map(a -> !a.openSessions().isEmpty()).orElse(false);
            if (working) {
                metrics.count(transitions.notNeeded(transition, claim, "agent has an open session again"), false);
            } else {
                toCheck.add(transition);
            }
        }
        Map<String, AgentSnapshot> snapshots = Map.of();
        if (!toCheck.isEmpty()) {
            try {
                snapshots = connect.currentData(toCheck.stream().map(t -> t.agent().userId()).distinct().toList());
            } catch (ConnectFailure failure) {
                // Without the check we may spend a PutUserStatus on an agent already Offline: wasteful, never wrong.
                if (failure.throttled()) {
                    metrics.connectThrottled();
                }
                LOG.warn("GetCurrentUserData failed ({}); setting {} agents Offline unchecked", failure.code(), toCheck.size());
            }
        }
        List<Transition> toSet = new ArrayList<>();
        Map<String, Boolean> deferred = new java.util.HashMap<>();
        // The routing profile each agent has now: an exemption unknown at register is decided from it, no call of its own.
        Map<String, String> profiles = new java.util.HashMap<>();
        for (Transition transition : toCheck) {
            AgentSnapshot snapshot = snapshots.get(transition.agent().userId());
            if (snapshot != null && offlineOrQueued(snapshot)) {
                metrics.count(transitions.alreadyOffline(transition, claim), false);
            } else {
                toSet.add(transition);
                if (snapshot != null) {
                    deferred.put(transition.agent().userId(), snapshot.onContact());
                    snapshot.routingProfileId().ifPresent(p -> profiles.put(transition.agent().userId(), p));
                }
            }
        }
        events.flushInBackground();
        return new Prepared(claim, toSet, deferred, profiles, dueAt);
    }

    /**
     * PutUserStatus for each, paced where it is dispatched (each call takes its turn under the pacer before it is
     * handed to a worker, so what is queued is exactly what is not dispatched yet) and pipelined, since Connect's
     * answer takes longer than the pacing interval. {@code nearlyDone} runs when the last calls are about to go
     * out (about three seconds of the rate left), which is when the next chunk gets prepared. Nothing is
     * dispatched whose turn would come after {@code stopBy}: those transitions are released at once (due again,
     * for the next run) instead of waiting out their lease.
     */
    private void execute(Prepared chunk, Runnable nearlyDone, Instant stopBy) {
        int prefetchAt = (int) Math.max(1, Math.ceil(ratePerSecond * 3));
        List<Future<?>> inFlight = new ArrayList<>();
        Semaphore slots = new Semaphore(MAX_IN_FLIGHT);
        List<Transition> untried = List.of();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Transition> toSet = chunk.toSet();
            for (int i = 0; i < toSet.size(); i++) {
                if (toSet.size() - i == prefetchAt) {
                    nearlyDone.run();
                }
                if (!turnBefore(stopBy)) {
                    untried = toSet.subList(i, toSet.size());
                    break;
                }
                Transition transition = toSet.get(i);
                Optional<Boolean> deferred = Optional.ofNullable(chunk.deferredByUser().get(transition.agent().userId()));
                slots.acquireUninterruptibly();
                inFlight.add(executor.submit(() -> {
                    try {
                        metrics.count(transitions.attempt(transition, chunk.claim(), deferred,
                                Optional.ofNullable(chunk.profileByUser().get(transition.agent().userId()))), deferred.orElse(false));
                    } finally {
                        slots.release();
                    }
                }));
            }
            if (toSet.size() < prefetchAt) {
                nearlyDone.run();
            }
        }
        release(untried, chunk.claim(), chunk.dueAt());
        // The executor's close waited for every attempt (an interrupt included), so each one has ended here.
        for (Future<?> task : inFlight) {
            if (task.state() == Future.State.FAILED) {
                // The transition keeps its claim until the lease ends, then a later sweep takes it again.
                LOG.error("a transition attempt failed unexpectedly; it is retried after its lease", task.exceptionNow());
            }
        }
        events.flushInBackground(); // the next chunk's Connect calls need not wait for EventBridge
    }

    private boolean turnBefore(Instant stopBy) {
        try {
            return connect.turnToSetOffline(Duration.between(clock.instant(), stopBy));
        } catch (ConnectFailure interrupted) {
            return false;
        }
    }

    /**
     * Gives claimed transitions back, the run ends before their turn would come: due again at the time they were due
     * before the claim, so each keeps its place in the queue (given back at "now", one would go behind every
     * transition that fell due meanwhile, and could be given back and sent to the back again, run after run).
     */
    private void release(List<Transition> untried, String claim, Map<SessionId, Instant> dueAt) {
        if (untried.isEmpty()) {
            return;
        }
        Instant now = clock.instant();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Transition transition : untried) {
                executor.submit(() -> {
                    try {
                        store.releaseClaim(transition.sessionId(), claim, dueAt.getOrDefault(transition.sessionId(), now));
                    } catch (RuntimeException e) {
                        LOG.warn("releasing {} failed; it is due again when its lease ends: {}", transition.sessionId(), e.toString());
                    }
                });
            }
        }
        LOG.info("{} claimed transitions released untried: the run's budget ends before their turn", untried.size());
    }

    /** A chunk from the shards in turn, so one busy shard cannot starve the others. */
    private List<Transition> findDue(Instant now, int size) {
        List<Transition> due = new ArrayList<>();
        for (int i = 0; i < TableLayout.SHARDS && due.size() < size; i++) {
            int shard = (nextShard + i) % TableLayout.SHARDS;
            due.addAll(store.findDueTransitions(shard, now, size - due.size()));
        }
        nextShard = (nextShard + 1) % TableLayout.SHARDS;
        return due;
    }

    /** Claims in parallel: one conditional write each, none depending on another. */
    private List<Transition> claimAll(List<Transition> due, String claim, Instant now, Instant leaseUntil) {
        List<Future<Optional<Transition>>> claims = new ArrayList<>();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            Semaphore slots = new Semaphore(MAX_IN_FLIGHT);
            for (Transition transition : due) {
                claims.add(executor.submit(() -> {
                    slots.acquire();
                    try {
                        return store.claim(transition.sessionId(), claim, now, leaseUntil);
                    } finally {
                        slots.release();
                    }
                }));
            }
        }
        // The executor's close waited for every claim, so each one has ended here.
        List<Transition> claimed = new ArrayList<>();
        for (Future<Optional<Transition>> result : claims) {
            switch (result.state()) {
                case SUCCESS -> result.resultNow().ifPresent(claimed::add);
                case FAILED -> LOG.warn("claim failed; the transition stays due for the next sweep: {}", result.exceptionNow().toString());
                default -> { } // cancelled: not claimed
            }
        }
        return claimed;
    }

    private boolean offlineOrQueued(AgentSnapshot snapshot) {
        try {
            return connect.isOfflineOrQueued(snapshot);
        } catch (ConnectFailure failure) {
            return false;
        }
    }
}
