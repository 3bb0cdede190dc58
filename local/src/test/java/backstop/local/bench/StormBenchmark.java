package backstop.local.bench;

import backstop.core.config.BackstopConfig;
import backstop.local.LocalStack;
import backstop.local.connect.ConnectCall;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import backstop.reconciler.Reconciler;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A storm of crashed tabs against the real default quota (emulator: 2 requests/s, burst 5, per operation).
 * Prints the storm time against the quota's minimum, throttled calls and Connect calls per transition.
 * <pre>local/bin/test -pl local -Dtest=StormBenchmark -Dbench=true -Dsurefire.failIfNoSpecifiedTests=false -Dagents=1000 -Drate=2</pre>
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class StormBenchmark {

    @Test
    void measure() throws Exception {
        int agents = Integer.getInteger("agents", 1000);
        double rate = Double.parseDouble(System.getProperty("rate", "2"));
        double quotaRate = Double.parseDouble(System.getProperty("quotaRate", "2"));
        int quotaBurst = Integer.getInteger("quotaBurst", 5);
        try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests())) {
            ConnectEmulator connect = stack.connect();
            List<String> users = storm(stack, agents, new Quota(true, quotaRate, quotaBurst));
            Reconciler reconciler = ReconcilerWiring.reconciler(atRate(stack, rate), stack.reconcilerClients(),
                    Clock.systemUTC(), wake -> { }, ReconcilerMetrics.NONE);

            long started = System.nanoTime();
            reconciler.sweepOnce();
            double wall = (System.nanoTime() - started) / 1e9;

            List<ConnectCall> calls = connect.calls().stream().filter(c -> !c.operation().startsWith("ccp:")).toList();
            List<ConnectCall> ok = calls.stream().filter(c -> c.operation().equals(ConnectEmulator.PUT_USER_STATUS) && c.ok()).toList();
            long throttled = calls.stream().filter(c -> c.outcome().equals("ThrottlingException")).count();
            long lost = users.stream().filter(u -> !connect.agentView(stack.instanceId(), u).statusName().equals("Offline")).count();
            double storm = Duration.between(ok.getFirst().at(), ok.getLast().at()).toMillis() / 1000.0;
            double minimum = (agents - quotaBurst) / quotaRate;
            System.out.printf("storm: %d agents, quota %.1f rps burst %d, backstop rate %.1f rps%n", agents, quotaRate, quotaBurst, rate);
            System.out.printf("storm: first to last PutUserStatus %.1f s; quota minimum %.1f s (%+.1f%%); whole sweep %.1f s%n",
                    storm, minimum, 100 * (storm / minimum - 1), wall);
            System.out.printf("storm: %d Connect calls (%d PutUserStatus ok), %d throttled (%.2f%%), %.3f calls per transition, %d agents not Offline%n",
                    calls.size(), ok.size(), throttled, 100.0 * throttled / calls.size(), (double) calls.size() / agents, lost);
        }
    }

    /**
     * The same storm as the schedule runs it on Lambda: the real handler invoked on the template's rate with the
     * template's timeout (so each run stops taking work 9 s before it ends and the quota idles until the next
     * minute), until every agent is Offline. Prints each invocation's duration against its timeout, the storm's
     * time against the quota's minimum, throttles and agents left.
     * <pre>local/bin/bench storm   (or -Dtest=StormBenchmark#measureAcrossScheduledInvocations -Dagents=1000)</pre>
     */
    @Test
    void measureAcrossScheduledInvocations() throws Exception {
        int agents = Integer.getInteger("agents", 1000);
        double quotaRate = 2;
        int quotaBurst = 5;
        backstop.local.aws.TemplateResources template = backstop.local.aws.TemplateResources.load(
                backstop.local.aws.TemplateResources.findTemplate());
        Duration period = template.scheduleRate("ReconcilerFunction");
        Duration timeout = template.timeout("ReconcilerFunction");
        try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests())) {
            ConnectEmulator connect = stack.connect();
            List<String> users = storm(stack, agents, new Quota(true, quotaRate, quotaBurst));
            Clock clock = Clock.systemUTC();
            backstop.reconciler.ReconcilerHandler handler = new backstop.reconciler.ReconcilerHandler(
                    ReconcilerWiring.reconciler(atRate(stack, Double.parseDouble(System.getProperty("rate", "2"))), // the whole quota
                            stack.reconcilerClients(), clock, ReconcilerWiring.wallClockSleeper(clock), ReconcilerMetrics.NONE), clock);

            List<Long> durations = new ArrayList<>();
            long lost = agents;
            long first = System.nanoTime();
            for (int i = 0; lost > 0 && i < 40; i++) {
                long due = first + period.toNanos() * i;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                long started = System.nanoTime();
                handler.handleRequest(Map.of("source", "ccp-backstop.schedule"),
                        new backstop.local.LocalLambdaContext("ReconcilerFunction", (int) timeout.toMillis()));
                durations.add((System.nanoTime() - started) / 1_000_000);
                lost = users.stream().filter(u -> !connect.agentView(stack.instanceId(), u).statusName().equals("Offline")).count();
            }

            List<ConnectCall> calls = connect.calls().stream().filter(c -> !c.operation().startsWith("ccp:")).toList();
            List<ConnectCall> ok = calls.stream().filter(c -> c.operation().equals(ConnectEmulator.PUT_USER_STATUS) && c.ok()).toList();
            long throttled = calls.stream().filter(c -> c.outcome().equals("ThrottlingException")).count();
            double storm = Duration.between(ok.getFirst().at(), ok.getLast().at()).toMillis() / 1000.0;
            double minimum = (agents - quotaBurst) / quotaRate;
            long longest = durations.stream().mapToLong(Long::longValue).max().orElseThrow();
            System.out.printf("storm-invocations: %d agents over %d scheduled invocations (every %d s, timeout %d s); longest invocation %d ms%n",
                    agents, durations.size(), period.toSeconds(), timeout.toSeconds(), longest);
            System.out.printf("storm-invocations: first to last PutUserStatus %.1f s; quota minimum %.1f s (%+.1f%%)%n",
                    storm, minimum, 100 * (storm / minimum - 1));
            System.out.printf("storm-invocations: %d Connect calls, %d throttled (%.2f%%), %d agents not Offline%n",
                    calls.size(), throttled, 100.0 * throttled / calls.size(), lost);
        }
    }

    /** {@code agents} crashed tabs silent for five minutes, then Connect's quota on and the call log cleared. */
    static List<String> storm(LocalStack stack, int agents, Quota quota) {
        stack.connect().setQuota(Quota.OFF);
        List<String> users = List.copyOf(backstop.local.CrashedTabs.seed(stack, agents, "storm",
                Instant.now().minus(Duration.ofMinutes(5))).keySet());
        stack.connect().clearCalls();
        stack.connect().setQuota(quota);
        return users;
    }

    /** The stack's configuration with the reconciler's own rate set to {@code rate}. */
    static BackstopConfig atRate(LocalStack stack, double rate) {
        Map<String, String> env = new HashMap<>(stack.environment());
        env.put("CONNECT_RATE_PER_SECOND", String.valueOf(rate));
        return BackstopConfig.fromEnvironment(env);
    }
}
