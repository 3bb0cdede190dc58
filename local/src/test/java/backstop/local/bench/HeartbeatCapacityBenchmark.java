package backstop.local.bench;

import backstop.beacon.BeaconHandler;
import backstop.beacon.BeaconWiring;
import backstop.core.agent.AgentRef;
import backstop.core.session.Exemption;
import backstop.core.session.NewSession;
import backstop.core.session.SessionId;
import backstop.core.session.SessionSeeder;
import backstop.core.session.SessionToken;
import backstop.local.LocalFront;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import backstop.local.LocalStack;
import backstop.local.aws.TemplateResources;
import backstop.local.identity.JwtAuthorizer;
import backstop.local.identity.LocalIdentityProvider;
import backstop.local.it.MutableClock;
import backstop.reconciler.Reconciler;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Not part of the test run: heartbeat capacity at a contact centre's size. Open sessions beat every
 * HEARTBEAT_SECONDS on a moved clock, each at its own (seeded random) phase, as HTTP requests through the local
 * front enforcing the route throttle the template deploys for the ExpectedAgents size that holds them (20,000:
 * 4,000/s, burst 8,000); the throttle's bucket refills on the moved clock, and a whole second's beats arrive at the
 * same instant, which is burstier than pages are. Two tiers, because moto carries about 30 successful beats a
 * second on this machine (a beat is an UpdateItem and a GetItem, and the sweeps read every session a minute):
 * <ul>
 * <li>{@link #throughTheFront()}: {@code sessions} (20,000) for {@code minutes} (10) through the front's throttle,
 * the function behind it a stand-in that records each accepted beat's time; a stale sweep every SWEEP_INTERVAL
 * applies the sweep's rule (silent for longer than STALE_AFTER) to what was recorded.</li>
 * <li>{@link #throughTheStack()}: {@code stackSessions} (2,000) for {@code stackMinutes} (2) through the front, the
 * real beacon handler and moto, the reconciler's production stale sweep (the brake off, so nothing is hidden) every
 * SWEEP_INTERVAL on the same clock.</li>
 * </ul>
 * Printed: beats sent, refused with 429, sessions closed as stale (target 0), the busiest second against the
 * route's rate (its headroom), and for every size the template knows, the route's rate against its heartbeats.
 * <pre>local/bin/bench scale   (BENCH_SESSIONS=20000 BENCH_MINUTES=10)</pre>
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class HeartbeatCapacityBenchmark {
    static final int[] SIZES = {1000, 5000, 20000, 50000, 100000};
    static final Instant START = Instant.parse("2026-12-03T08:00:00Z");

    /** What one run's beats met. */
    record Beats(long sent, long refused, Map<String, Long> other, int busiest, int sweeps, int staleClosed, double wallSeconds) {
    }

    /** The throttle at full size: the function behind the front records each accepted beat's time. */
    @Test
    void throughTheFront() throws Exception {
        int sessions = Integer.getInteger("sessions", 20_000);
        double minutes = Double.parseDouble(System.getProperty("minutes", "10"));
        try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of("TAGGED_SESSION_IDS", "off")))) {
            MutableClock clock = new MutableClock(START);
            SecureRandom random = new SecureRandom();
            List<String> ids = new ArrayList<>();
            Map<String, Instant> lastSeen = new java.util.concurrent.ConcurrentHashMap<>();
            for (int i = 0; i < sessions; i++) {
                String id = SessionId.random(random).value();
                ids.add(id);
                lastSeen.put(id, START);
            }
            RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> recorder = (event, context) -> {
                String path = event.getRawPath();
                String id = path.substring("/sessions/".length(), path.length() - "/heartbeat".length());
                lastSeen.computeIfPresent(id, (key, seen) -> clock.instant());
                return APIGatewayV2HTTPResponse.builder().withStatusCode(204).build();
            };
            Duration staleAfter = Duration.ofSeconds(stack.config().staleAfterSeconds());
            java.util.Set<String> closed = java.util.concurrent.ConcurrentHashMap.newKeySet();
            Beats beats = beat(stack, clock, sessions, minutes, recorder, ids, i -> "", () -> {
                Instant cutoff = clock.instant().minus(staleAfter);
                int before = closed.size();
                lastSeen.forEach((id, seen) -> {
                    if (seen.isBefore(cutoff)) {
                        closed.add(id);
                    }
                });
                closed.forEach(lastSeen::remove);
                return closed.size() - before;
            });
            print("through the front's throttle (stand-in function)", stack, sessions, minutes, beats);
            assertThat(beats.other()).as("beats answered other than 200 or 429").isEmpty();
            assertThat(beats.refused()).as("beats refused by the route throttle").isZero();
            assertThat(beats.staleClosed()).as("working sessions that would be closed as stale").isZero();
        }
    }

    /** The whole path at the size moto carries: the real beacon handler, moto, the production stale sweep. */
    @Test
    void throughTheStack() throws Exception {
        int sessions = Integer.getInteger("stackSessions", 2_000);
        double minutes = Double.parseDouble(System.getProperty("stackMinutes", "2"));
        try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of("TAGGED_SESSION_IDS", "off")))) {
            MutableClock clock = new MutableClock(START);
            BeaconHandler beacon = new BeaconHandler(BeaconWiring.api(stack.config(), stack.clients(), clock));
            Reconciler reconciler = ReconcilerWiring.reconciler(stack.config(), stack.reconcilerClients(), clock, wake -> { },
                    ReconcilerMetrics.NONE);
            SecureRandom random = new SecureRandom();
            List<String> ids = new ArrayList<>();
            List<String> tokens = new ArrayList<>();
            List<NewSession> seeded = new ArrayList<>();
            for (int i = 0; i < sessions; i++) {
                SessionId id = SessionId.random(random);
                SessionToken token = SessionToken.random(random);
                ids.add(id.value());
                tokens.add(token.reveal());
                seeded.add(new NewSession(id, new AgentRef(stack.config().connectInstance(), "cap-" + i), token.hash(), START,
                        Optional.empty(), Optional.empty(), Exemption.NOT_EXEMPT, Optional.empty(), 4));
            }
            SessionSeeder.seedOpenSessions(stack.clients().dynamoDb(), stack.config().sessionsTable(), seeded);
            Beats beats = beat(stack, clock, sessions, minutes, beacon, ids, tokens::get, () -> reconciler.sweepOnce().staleClosed());
            print("through the front, the beacon handler and moto", stack, sessions, minutes, beats);
            assertThat(beats.other()).as("beats answered other than 200 or 429").isEmpty();
            assertThat(beats.refused()).as("beats refused by the route throttle").isZero();
            assertThat(beats.staleClosed()).as("working sessions closed as stale").isZero();
        }
    }

    /**
     * Beats every session at its phase for {@code minutes} through a front of its own (the template's throttle for
     * the size, on the moved clock) with {@code function} behind it; {@code sweep} every SWEEP_INTERVAL.
     */
    private static Beats beat(LocalStack stack, MutableClock clock, int sessions, double minutes,
                              RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> function, List<String> ids,
                              java.util.function.IntFunction<String> token, java.util.function.IntSupplier sweep) throws Exception {
        TemplateResources.RouteThrottle throttle = throttleFor(sessions);
        int heartbeat = stack.config().heartbeatSeconds();
        java.util.Random phases = new java.util.Random(20261203);
        long[] phaseMillis = new long[sessions];
        for (int i = 0; i < sessions; i++) {
            phaseMillis[i] = phases.nextLong(heartbeat * 1000L);
        }
        LocalFront front = LocalFront.start(0, function, Path.of("..", "web"), stack.config().allowedOrigins(), () -> "{}", () -> "{}",
                new JwtAuthorizer(stack.identity().issuer(), List.of(LocalIdentityProvider.CLIENT_ID), clock), page -> "");
        try (HttpClient http = HttpClient.newBuilder().executor(Executors.newVirtualThreadPerTaskExecutor()).build()) {
            front.throttle(throttle.rate(), throttle.burst(), () -> Duration.between(START, clock.instant()).toNanos());
            URI base = URI.create("http://127.0.0.1:" + front.port());
            AtomicLong sent = new AtomicLong();
            AtomicLong refused = new AtomicLong();
            Map<String, AtomicLong> other = new java.util.concurrent.ConcurrentHashMap<>();
            int busiest = 0;
            int staleClosed = 0;
            int sweeps = 0;
            long end = (long) (minutes * 60_000);
            long sweepEvery = stack.config().sweepIntervalSeconds() * 1000L;
            long nextSweep = 0;
            long wallStart = System.nanoTime();
            for (long from = 0; from < end; from += 1000) {
                List<Integer> due = new ArrayList<>();
                for (int i = 0; i < sessions; i++) {
                    if (Math.floorMod(phaseMillis[i] - from, heartbeat * 1000L) < 1000) { // a beat at phase + k x period falls in this second
                        due.add(i);
                    }
                }
                clock.set(START.plusMillis(from));
                busiest = Math.max(busiest, due.size());
                Semaphore slots = new Semaphore(48);
                try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
                    for (int i : due) {
                        slots.acquireUninterruptibly();
                        executor.submit(() -> {
                            try {
                                HttpRequest request = HttpRequest.newBuilder(base.resolve("/sessions/" + ids.get(i) + "/heartbeat"))
                                        .header("Content-Type", "text/plain;charset=UTF-8")
                                        .POST(HttpRequest.BodyPublishers.ofString("{\"token\":\"" + token.apply(i) + "\"}")).build();
                                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                                sent.incrementAndGet();
                                if (response.statusCode() == 429) {
                                    refused.incrementAndGet();
                                } else if (response.statusCode() != 200 && response.statusCode() != 204) {
                                    other.computeIfAbsent(response.statusCode() + " " + response.body(), k -> new AtomicLong()).incrementAndGet();
                                }
                            } catch (Exception e) {
                                other.computeIfAbsent(e.toString(), k -> new AtomicLong()).incrementAndGet();
                            } finally {
                                slots.release();
                            }
                        });
                    }
                }
                if (from >= nextSweep) {
                    staleClosed += sweep.getAsInt();
                    sweeps++;
                    nextSweep = from + sweepEvery;
                }
            }
            Map<String, Long> others = new java.util.TreeMap<>();
            other.forEach((k, v) -> others.put(k, v.get()));
            return new Beats(sent.get(), refused.get(), others, busiest, sweeps, staleClosed, (System.nanoTime() - wallStart) / 1e9);
        } finally {
            front.close();
        }
    }

    /** The template's route throttle at the smallest ExpectedAgents size that holds {@code sessions}. */
    static TemplateResources.RouteThrottle throttleFor(int sessions) {
        int size = java.util.Arrays.stream(SIZES).filter(s -> s >= sessions).findFirst().orElse(SIZES[SIZES.length - 1]);
        return TemplateResources.load(TemplateResources.findTemplate()).routeThrottle("HttpApi", "ExpectedAgents", Integer.toString(size));
    }

    private static void print(String how, LocalStack stack, int sessions, double minutes, Beats beats) {
        TemplateResources.RouteThrottle throttle = throttleFor(sessions);
        System.out.printf("heartbeat-capacity %s: %,d sessions beating every %d s for %.1f min (moved clock), route %,.0f/s burst %,d (template,"
                        + " ExpectedAgents for %,d); %,d beats, %,d refused 429, %d other; %d stale sweeps, %d closed as stale; busiest second"
                        + " %,d beats = %.1f %% of the route's rate (headroom %.1f x); %.0f s wall%n",
                how, sessions, stack.config().heartbeatSeconds(), minutes, throttle.rate(), throttle.burst(),
                java.util.Arrays.stream(SIZES).filter(s -> s >= sessions).findFirst().orElse(SIZES[SIZES.length - 1]), beats.sent(),
                beats.refused(), beats.other().values().stream().mapToLong(Long::longValue).sum(), beats.sweeps(), beats.staleClosed(),
                beats.busiest(), 100.0 * beats.busiest() / throttle.rate(), throttle.rate() / beats.busiest(), beats.wallSeconds());
        if (!beats.other().isEmpty()) {
            System.out.println("heartbeat-capacity other answers: " + beats.other());
        }
        TemplateResources template = TemplateResources.load(TemplateResources.findTemplate());
        int heartbeat = stack.config().heartbeatSeconds();
        for (int agents : SIZES) {
            TemplateResources.RouteThrottle at = template.routeThrottle("HttpApi", "ExpectedAgents", Integer.toString(agents));
            double perSecond = (double) agents / heartbeat;
            System.out.printf("heartbeat-capacity template ExpectedAgents %,d: %,.0f beats/s (one tab each) vs route %,.0f/s burst %,d:"
                            + " headroom %.1f x; two tabs each and every beat retried once: %.1f x%n",
                    agents, perSecond, at.rate(), at.burst(), at.rate() / perSecond, at.rate() / (perSecond * 4));
        }
    }
}
