package backstop.local.bench;

import backstop.core.agent.AgentRef;
import backstop.core.session.DynamoSessionStore;
import backstop.core.session.Exemption;
import backstop.core.session.NewSession;
import backstop.core.session.SessionId;
import backstop.core.session.SessionSeeder;
import backstop.core.session.SessionToken;
import backstop.local.LocalLambdaContext;
import backstop.local.LocalStack;
import backstop.local.connect.Quota;
import backstop.reconciler.ReconcilerHandler;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Not part of the test run: a crash during a shift end's backlog. {@code due} (1,000) crashed sessions are found
 * by the first sweep, which makes 1,000 Offline transitions due at once: at the default 1.5 calls a second against
 * Connect's real quota (2/s, burst 5) that is 11 minutes of work. Meanwhile one working agent's page beats through
 * the local front every HEARTBEAT_SECONDS and then crashes (no close). The reconciler runs as deployed: the
 * production handler every minute with the template's 58 s timeout, on the wall clock. Printed: the crashed
 * session closed after its last beat (bound STALE_AFTER + SWEEP_INTERVAL = 90 s), when each stale sweep ran
 * (target: every 15 s) and how many transitions the backlog got meanwhile (the due work keeps going).
 * <pre>local/bin/bench scale</pre>
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class BacklogCrashBenchmark {

    /** When each stale sweep ran, and what the due work did. */
    static final class Recording implements ReconcilerMetrics {
        final List<Instant> sweeps = new CopyOnWriteArrayList<>();
        final AtomicInteger done = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final AtomicInteger throttled = new AtomicInteger();
        volatile long backlog;

        @Override public void staleSessionsClosed(int count) { sweeps.add(Instant.now()); }
        @Override public void transitionDone(boolean deferred) { done.incrementAndGet(); }
        @Override public void transitionNotNeeded() { }
        @Override public void transitionFailed() { failed.incrementAndGet(); }
        @Override public void transitionRetryScheduled() { }
        @Override public void connectThrottled() { throttled.incrementAndGet(); }
        @Override public void pendingBacklog(long count) { backlog = count; }
        @Override public void sweepSkippedIndexBackfilling() { }
        @Override public void sessionsHeld(int count) { }
        @Override public void flush() { }
    }

    @Test
    void measure() throws Exception {
        int due = Integer.getInteger("due", 1000);
        try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of("TAGGED_SESSION_IDS", "off")))) {
            stack.connect().setQuota(Quota.CONNECT_DEFAULT);
            SecureRandom random = new SecureRandom();
            Instant now = Instant.now();
            List<NewSession> crashed = new ArrayList<>();
            for (int i = 0; i < due; i++) {
                String userId = "backlog-" + i;
                stack.connect().addAgent(stack.instanceId(), userId, userId, "Backlog", "Agent", "rp-sales", "Available");
                crashed.add(new NewSession(SessionId.random(random), new AgentRef(stack.config().connectInstance(), userId), new byte[32],
                        now.minus(Duration.ofMinutes(10)), Optional.empty(), Optional.empty(), Exemption.NOT_EXEMPT, Optional.empty(), 4));
            }
            SessionSeeder.seedOpenSessions(stack.clients().dynamoDb(), stack.config().sessionsTable(), crashed);
            String victimUser = "backlog-victim";
            stack.connect().addAgent(stack.instanceId(), victimUser, victimUser, "Victim", "Agent", "rp-sales", "Available");
            SessionId victim = SessionId.random(random);
            SessionToken token = SessionToken.random(random);
            SessionSeeder.seedOpenSessions(stack.clients().dynamoDb(), stack.config().sessionsTable(), List.of(new NewSession(victim,
                    new AgentRef(stack.config().connectInstance(), victimUser), token.hash(), Instant.now(), Optional.empty(), Optional.empty(),
                    Exemption.NOT_EXEMPT, Optional.empty(), 4)));

            Recording metrics = new Recording();
            Clock clock = Clock.systemUTC();
            ReconcilerHandler handler = new ReconcilerHandler(ReconcilerWiring.reconciler(stack.config(), stack.reconcilerClients(), clock,
                    ReconcilerWiring.wallClockSleeper(clock), metrics), clock);
            ScheduledExecutorService schedule = Executors.newSingleThreadScheduledExecutor();
            Instant started = Instant.now();
            schedule.scheduleAtFixedRate(() -> {
                try {
                    handler.handleRequest(Map.of("source", "bench"), new LocalLambdaContext("ReconcilerFunction", 58_000));
                } catch (RuntimeException e) {
                    e.printStackTrace();
                }
            }, 0, 60, TimeUnit.SECONDS);

            // The working agent's page: a beat every HEARTBEAT_SECONDS until the crash, two beats into the backlog.
            HttpClient http = HttpClient.newHttpClient();
            HttpRequest beat = HttpRequest.newBuilder(stack.frontUrl().resolve("/sessions/" + victim.value() + "/heartbeat"))
                    .header("Content-Type", "text/plain;charset=UTF-8")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"token\":\"" + token.reveal() + "\"}")).build();
            Duration period = Duration.ofSeconds(stack.config().heartbeatSeconds());
            Instant lastBeat = null;
            for (int i = 0; i < 3; i++) {
                int status = http.send(beat, HttpResponse.BodyHandlers.discarding()).statusCode();
                assertThat(status).as("the working agent's beat").isIn(200, 204);
                lastBeat = Instant.now();
                if (i < 2) {
                    Thread.sleep(period.toMillis());
                }
            }
            long backlogAtCrash = metrics.backlog;
            int doneAtCrash = metrics.done.get();
            DynamoSessionStore store = new DynamoSessionStore(stack.clients().dynamoDb(), stack.config().sessionsTable());
            Instant crash = lastBeat;
            await().atMost(Duration.ofSeconds(stack.config().staleAfterSeconds() + 75L)).pollInterval(Duration.ofMillis(200))
                    .until(() -> store.findSession(victim).map(s -> !s.isOpen()).orElse(false));
            Instant closed = Instant.now();
            backstop.core.session.Session seen = store.findSession(victim).orElseThrow();
            int doneAtClose = metrics.done.get();
            long backlogAtClose = metrics.backlog;
            schedule.shutdownNow();
            schedule.awaitTermination(70, TimeUnit.SECONDS);

            List<Long> at = metrics.sweeps.stream().map(s -> Duration.between(started, s).toMillis()).toList();
            long maxGap = 0;
            for (int i = 1; i < at.size(); i++) {
                maxGap = Math.max(maxGap, at.get(i) - at.get(i - 1));
            }
            long closedAfter = Duration.between(crash, closed).toMillis();
            // The close records the time of the sweep that found the session stale (closedAt), lastSeen its last beat.
            long foundAfter = Duration.between(seen.lastSeen(), seen.closedAt().orElseThrow()).toMillis();
            System.out.printf("backlog-crash %,d transitions due at once (Connect 2/s burst 5, reconciler %.1f/s): the crashed session found stale"
                            + " by the sweep of %.1f s after its last beat (closedAt - lastSeen; bound %d s), seen closed %.1f s after it;"
                            + " stale sweeps every %.1f s at most (ends of %d sweeps in %.0f s: %s s);"
                            + " backlog %,d at the crash, %,d when it closed; %d transitions done meanwhile, %d failed, %d throttled%n",
                    due, stack.config().connectRatePerSecond(), foundAfter / 1000.0,
                    stack.config().staleAfterSeconds() + stack.config().sweepIntervalSeconds(), closedAfter / 1000.0, maxGap / 1000.0, at.size(),
                    Duration.between(started, closed).toMillis() / 1000.0, at.stream().map(ms -> String.format("%.1f", ms / 1000.0)).toList(),
                    backlogAtCrash, backlogAtClose, doneAtClose - doneAtCrash, metrics.failed.get(), metrics.throttled.get());
            assertThat(backlogAtClose).as("the backlog was still there when the crash was found").isGreaterThan(0);
            assertThat(foundAfter).as("the sweep that found it came within STALE_AFTER + SWEEP_INTERVAL of its last beat")
                    .isLessThanOrEqualTo((stack.config().staleAfterSeconds() + stack.config().sweepIntervalSeconds()) * 1000L);
        }
    }
}
