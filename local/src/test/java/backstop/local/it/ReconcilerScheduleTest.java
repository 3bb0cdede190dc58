package backstop.local.it;

import backstop.core.config.BackstopConfig;
import backstop.core.session.DynamoSessionStore;
import backstop.core.session.DynamoTransitionStore;
import backstop.core.session.SessionStore;
import backstop.local.LocalLambdaContext;
import backstop.local.LocalStack;
import backstop.local.aws.TemplateResources;
import backstop.reconciler.ReconcilerHandler;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reconciler's cadence across consecutive invocations, as the deployed schedule runs them: the template's
 * rate and Timeout, the real handler and its margin, on a clock the sleeper moves (work takes no time here; the
 * real-clock budget is ReconcilerBudgetTest's). Consecutive sweeps are never more than SWEEP_INTERVAL apart,
 * across invocation boundaries too, so a session is closed at most STALE_AFTER + SWEEP_INTERVAL after its last
 * heartbeat; and no invocation works past its timeout.
 */
class ReconcilerScheduleTest {
    static LocalStack stack;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests());
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    @Test
    void consecutiveInvocations_should_sweepAtMostOneIntervalApart_andEndBeforeTheirTimeout() {
        TemplateResources template = TemplateResources.load(TemplateResources.findTemplate());
        Duration rate = template.scheduleRate("ReconcilerFunction");
        Duration timeout = template.timeout("ReconcilerFunction");
        BackstopConfig config = stack.config();
        Duration interval = Duration.ofSeconds(config.sweepIntervalSeconds());
        Instant first = Instant.parse("2026-11-29T10:00:00Z");
        MutableClock clock = new MutableClock(first);
        List<Instant> sweeps = new ArrayList<>();
        SessionStore real = new DynamoSessionStore(stack.reconcilerClients().dynamoDb(), config.sessionsTable());
        SessionStore recording = (SessionStore) Proxy.newProxyInstance(SessionStore.class.getClassLoader(),
                new Class<?>[] {SessionStore.class}, (proxy, method, args) -> {
                    if (method.getName().matches("openSessionsInShard|forEachOpenSessionInShard") && (int) args[0] == 0) {
                        sweeps.add(clock.instant()); // each stale sweep lists shard 0 first
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        ReconcilerHandler handler = new ReconcilerHandler(ReconcilerWiring.reconciler(config, recording,
                new DynamoTransitionStore(stack.reconcilerClients().dynamoDb(), config.sessionsTable()), stack.reconcilerClients(),
                clock, wake -> clock.set(wake), ReconcilerMetrics.NONE), clock);

        // One agent keeps a session open throughout (last seen after the test's three minutes, so never stale):
        // with nothing open a run ends after its first sweep (ReconcilerLoopTest), and the cadence is not asked.
        backstop.core.session.SessionSeeder.seedOpenSessions(stack.reconcilerClients().dynamoDb(), config.sessionsTable(), List.of(
                new backstop.core.session.NewSession(backstop.core.session.SessionId.random(new java.security.SecureRandom()),
                        new backstop.core.agent.AgentRef(config.connectInstance(), "schedule-watch"), new byte[32], first.plus(Duration.ofMinutes(10)),
                        java.util.Optional.empty(), java.util.Optional.empty(), backstop.core.session.Exemption.NOT_EXEMPT, java.util.Optional.empty(), 4)));
        List<Instant> ends = new ArrayList<>();
        for (int invocation = 0; invocation < 3; invocation++) {
            Instant scheduled = first.plus(rate.multipliedBy(invocation));
            clock.set(scheduled);
            handler.handleRequest(Map.of("source", "ccp-backstop.schedule"), new MovedClockContext(clock, scheduled.plus(timeout)));
            ends.add(clock.instant());
            assertThat(clock.instant()).as("invocation %d stops taking work before its timeout, with the margin left", invocation)
                    .isBeforeOrEqualTo(scheduled.plus(timeout).minus(ReconcilerHandler.SAFETY_MARGIN));
        }

        Duration widest = Duration.ZERO;
        for (int i = 1; i < sweeps.size(); i++) {
            Duration gap = Duration.between(sweeps.get(i - 1), sweeps.get(i));
            widest = gap.compareTo(widest) > 0 ? gap : widest;
        }
        System.out.printf("sweeps over 3 invocations (rate %s, timeout %s): %s; widest gap %s%n", rate, timeout, sweeps, widest);
        assertThat(sweeps).as("sweeps in 3 minutes").hasSize(12);
        assertThat(widest).as("widest gap between sweeps, across invocations").isLessThanOrEqualTo(interval);
        assertThat(ends.getLast()).isBefore(first.plus(rate.multipliedBy(3)));
    }
}
