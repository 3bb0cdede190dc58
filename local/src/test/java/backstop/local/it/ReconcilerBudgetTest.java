package backstop.local.it;

import backstop.core.session.DynamoSessionStore;
import backstop.core.session.DynamoTransitionStore;
import backstop.core.session.SessionId;
import backstop.core.transition.Transition;
import backstop.core.transition.TransitionState;
import backstop.local.CrashedTabs;
import backstop.local.LocalLambdaContext;
import backstop.local.LocalStack;
import backstop.local.Waits;
import backstop.local.aws.TemplateResources;
import backstop.local.connect.ConnectCall;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.OperationFault;
import backstop.local.connect.Quota;
import backstop.reconciler.ReconcilerHandler;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The reconciler on Lambda's real clock, through its real entry point: one invocation with the template's
 * timeout and the handler's margin, at the default rate (1.5/s) against Connect's real quota (2/s, burst 5),
 * with Connect answering slowly, failing and throttling, and 300 transitions due (far more than fit). Nothing is
 * dispatched after the run stops taking work, nothing is left claimed, every ended transition has its event,
 * the metrics are written, and the invocation returns inside its timeout.
 */
class ReconcilerBudgetTest {
    static final int DUE = 300;
    static final long LATENCY_MILLIS = 300;
    static LocalStack stack;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests());
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    /** Counts what the run reports, and how often it writes its metrics. */
    static final class CountingMetrics implements ReconcilerMetrics {
        @Override public void sessionsHeld(int count) { }
        final AtomicInteger done = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final AtomicInteger flushes = new AtomicInteger();
        /** When each stale sweep ended (each reports its closes once). */
        final List<Instant> sweeps = new java.util.concurrent.CopyOnWriteArrayList<>();
        @Override public void staleSessionsClosed(int count) { sweeps.add(Instant.now()); }
        @Override public void transitionDone(boolean deferred) { done.incrementAndGet(); }
        @Override public void transitionNotNeeded() { }
        @Override public void transitionFailed() { failed.incrementAndGet(); }
        @Override public void transitionRetryScheduled() { }
        @Override public void connectThrottled() { }
        @Override public void pendingBacklog(long count) { }
        @Override public void sweepSkippedIndexBackfilling() { }
        @Override public void flush() { flushes.incrementAndGet(); }
    }

    @Test
    void run_should_dispatchNothingAfterItsBudget_strandNoClaim_andLoseNoEvent_whenFarMoreIsDueThanFits() {
        ConnectEmulator connect = stack.connect();
        connect.setQuota(Quota.OFF);
        DynamoSessionStore store = new DynamoSessionStore(stack.reconcilerClients().dynamoDb(), stack.config().sessionsTable());
        Map<String, SessionId> sessions = CrashedTabs.seed(stack, DUE, "budget", Instant.now().minus(Duration.ofMinutes(5)));
        List<String> users = List.copyOf(sessions.keySet());
        connect.setQuota(Quota.CONNECT_DEFAULT);
        connect.setFault(ConnectEmulator.PUT_USER_STATUS, new OperationFault(0.05, 500, "InternalServiceException", LATENCY_MILLIS));
        connect.setFault(ConnectEmulator.GET_CURRENT_USER_DATA, new OperationFault(0.1, 429, "ThrottlingException", 100));
        Duration timeout = TemplateResources.load(TemplateResources.findTemplate()).timeout("ReconcilerFunction");
        CountingMetrics metrics = new CountingMetrics();
        Clock clock = Clock.systemUTC();
        DynamoTransitionStore transitions = new DynamoTransitionStore(stack.reconcilerClients().dynamoDb(), stack.config().sessionsTable());
        ReconcilerHandler handler = new ReconcilerHandler(ReconcilerWiring.reconciler(stack.config(), store, transitions,
                stack.reconcilerClients(), clock, ReconcilerWiring.wallClockSleeper(clock), metrics), clock);

        Instant started = Instant.now();
        handler.handleRequest(Map.of("source", "ccp-backstop.schedule"), new LocalLambdaContext("ReconcilerFunction", (int) timeout.toMillis()));
        Instant returned = Instant.now();
        Instant stopBy = started.plus(timeout).minus(ReconcilerHandler.SAFETY_MARGIN);

        List<ConnectCall> puts = connect.calls(ConnectEmulator.PUT_USER_STATUS).stream().filter(c -> users.contains(c.userId())).toList();
        Instant lastPut = puts.stream().map(ConnectCall::at).max(Instant::compareTo).orElseThrow();
        System.out.printf("budget run: %d PutUserStatus, last answered %d ms after start (stop taking work at %d ms), returned after %d ms"
                        + " (timeout %d ms)%n", puts.size(), Duration.between(started, lastPut).toMillis(),
                Duration.between(started, stopBy).toMillis(), Duration.between(started, returned).toMillis(), timeout.toMillis());
        assertThat(returned).as("the invocation returns inside its timeout").isBefore(started.plus(timeout));
        // The emulator logs a call when it answers: after its latency, so the dispatch was before stopBy.
        assertThat(lastPut).as("last PutUserStatus").isBefore(stopBy.plusMillis(LATENCY_MILLIS + 1000));
        assertThat(puts.size()).as("the run used its budget").isGreaterThan(40);
        // The crash path's sweep keeps its interval (15 s) while far more is due than the run can work.
        List<Long> gaps = new java.util.ArrayList<>();
        for (int i = 1; i < metrics.sweeps.size(); i++) {
            gaps.add(Duration.between(metrics.sweeps.get(i - 1), metrics.sweeps.get(i)).toMillis());
        }
        System.out.printf("budget run: %d stale sweeps during the backlog, %s ms apart%n", metrics.sweeps.size(), gaps);
        assertThat(metrics.sweeps).as("a stale sweep every 15 s of the run, not one for the whole backlog").hasSizeGreaterThanOrEqualTo(3);
        assertThat(gaps).as("ms between stale sweeps (15 s, plus a call in flight and the sweep itself)")
                .allSatisfy(gap -> assertThat(gap).isLessThanOrEqualTo(20_000L));

        Map<TransitionState, Integer> states = new HashMap<>();
        int withEvents = 0;
        for (String user : users) {
            Transition transition = transitions.findTransition(sessions.get(user)).orElseThrow(() -> new AssertionError("no transition for " + user));
            states.merge(transition.state(), 1, Integer::sum);
            if (transition.state() == TransitionState.PENDING) {
                // Stranded = held under a lease that outlives the run. A stale close's transition is born due at
                // once under the sweep's claim; a released one is due at once; a failed attempt's has no claim.
                boolean leasedPastTheRun = transition.claim().isPresent() && transition.nextAttemptAt().isAfter(returned);
                assertThat(leasedPastTheRun).as("%s left claimed until %s", user, transition.nextAttemptAt()).isFalse();
            }
            if (transition.state() == TransitionState.DONE || transition.state() == TransitionState.FAILED) {
                withEvents++;
            }
        }
        System.out.printf("budget run: transitions %s%n", states);
        assertThat(states.getOrDefault(TransitionState.PENDING, 0)).as("most are left for the next run").isGreaterThan(100);
        assertThat(metrics.flushes).as("metrics written once, as the run ends").hasValue(1);
        assertThat(metrics.done.get()).isEqualTo(states.getOrDefault(TransitionState.DONE, 0));
        int expected = withEvents;
        await().atMost(Waits.PROMPT).untilAsserted(() -> assertThat(stack.events().events().stream()
                .filter(e -> users.contains(e.path("detail").path("userId").asText())).count()).isEqualTo(expected));
    }
}
