package backstop.local.bench;

import backstop.beacon.BeaconApi;
import backstop.beacon.BeaconWiring;
import backstop.core.agent.AgentRef;
import backstop.core.http.HttpRequest;
import backstop.core.http.HttpResponse;
import backstop.core.session.DynamoSessionStore;
import backstop.core.session.Exemption;
import backstop.core.session.NewSession;
import backstop.core.session.SessionId;
import backstop.core.session.SessionToken;
import backstop.local.DemoInstance;
import backstop.local.LocalLambdaContext;
import backstop.local.LocalStack;
import backstop.local.aws.TemplateResources;
import backstop.local.connect.ConnectCall;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import backstop.reconciler.ReconcilerHandler;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A shift end against Connect's real default quota (emulator: 2 requests/s, burst 5, per operation, shared by every
 * caller): {@code closes} tabs closed evenly over {@code seconds} (default 500 in 60 s), 80 % of the agents Offline
 * by their own choice before they close (their page says so), 20 % still Available, through {@code containers}
 * beacon handler instances (each built as a Lambda container builds its graph: its own state, the stack's one
 * shared Connect budget on the table) and the reconciler's real handler on its schedule. Sessions registered this
 * morning by agents known from before (exemption unknown: the stack configures an exempt profile).
 * Prints the time from the first close to the last Offline against the quota's minimum, throttled Connect calls,
 * FAILED outcomes, and PutUserStatus calls for agents already Offline.
 * <pre>local/bin/bench shift-end   (or -Dtest=ShiftEndBenchmark -Dbench=true -DshiftCloses=500 -DshiftSeconds=60 -DshiftContainers=4)</pre>
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class ShiftEndBenchmark {

    @Test
    void measure() throws Exception {
        int closes = Integer.getInteger("shiftCloses", 500);
        int seconds = Integer.getInteger("shiftSeconds", 60);
        int containers = Integer.getInteger("shiftContainers", 4);
        // The stack's share of Connect's quota (CONNECT_RATE_PER_SECOND): the template's default unless given.
        String share = System.getProperty("shiftRate", "");
        double availableShare = 0.2;
        TemplateResources template = TemplateResources.load(TemplateResources.findTemplate());
        Duration period = template.scheduleRate("ReconcilerFunction");
        Duration timeout = template.timeout("ReconcilerFunction");
        LocalStack.Options options = share.isEmpty() ? LocalStack.Options.forTests()
                : LocalStack.Options.forTests().withEnvironment(Map.of("CONNECT_RATE_PER_SECOND", share));
        try (LocalStack stack = LocalStack.start(options)) {
            ConnectEmulator connect = stack.connect();
            connect.setQuota(Quota.OFF);
            String offlineArn = DemoInstance.instanceArn(stack.instanceId()) + "/agent-state/"
                    + connect.statusId(stack.instanceId(), backstop.local.connect.AgentStatusType.OFFLINE);
            // Each session last seen at the end of the close window: it stands in for the pages' heartbeats (every 30 s
            // until the close), which keep a live session from the stale sweep; only the closes end these sessions.
            List<Agent> agents = seed(stack, closes, availableShare, Instant.now().plusSeconds(seconds + 30));
            List<BeaconApi> beacons = new ArrayList<>();
            for (int i = 0; i < containers; i++) {
                beacons.add(BeaconWiring.api(stack.config(), stack.clients(), Clock.systemUTC()));
            }
            connect.clearCalls();
            connect.setQuota(Quota.CONNECT_DEFAULT);

            Clock clock = Clock.systemUTC();
            ReconcilerHandler reconciler = new ReconcilerHandler(ReconcilerWiring.reconciler(stack.config(), stack.reconcilerClients(),
                    clock, ReconcilerWiring.wallClockSleeper(clock), ReconcilerMetrics.NONE), clock);
            AtomicBoolean running = new AtomicBoolean(true);
            Thread schedule = Thread.ofPlatform().daemon().name("schedule").start(() -> {
                long first = System.nanoTime();
                for (int i = 0; running.get(); i++) {
                    long wait = first + period.toNanos() * i - System.nanoTime();
                    try {
                        if (wait > 0) {
                            Thread.sleep(wait / 1_000_000);
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                    reconciler.handleRequest(Map.of("source", "ccp-backstop.schedule"),
                            new LocalLambdaContext("ReconcilerFunction", (int) timeout.toMillis()));
                }
            });

            Map<String, Instant> closedAt = new ConcurrentHashMap<>();
            Map<String, String> outcomes = new ConcurrentHashMap<>();
            List<Integer> statuses = Collections.synchronizedList(new ArrayList<>());
            Collections.shuffle(agents, new SecureRandom());
            long start = System.nanoTime();
            try (ExecutorService lambdas = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < agents.size(); i++) {
                    Agent agent = agents.get(i);
                    BeaconApi beacon = beacons.get(i % containers);
                    long at = start + (long) (i * (seconds * 1e9 / agents.size()));
                    lambdas.submit(() -> {
                        long wait = at - System.nanoTime();
                        if (wait > 0) {
                            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        }
                        closedAt.put(agent.userId, Instant.now());
                        String status = agent.available ? "{\"name\":\"Available\"}"
                                : "{\"name\":\"Offline\",\"arn\":\"" + offlineArn + "\"}";
                        HttpResponse response = beacon.handle(new HttpRequest(BeaconApi.CLOSE, Map.of("sessionId", agent.session.value()),
                                Map.of("content-type", "text/plain"), ("{\"token\":\"" + agent.token.reveal()
                                + "\",\"reason\":\"pagehide\",\"status\":" + status + "}").getBytes(StandardCharsets.UTF_8)));
                        statuses.add(response.status());
                        String body = response.body();
                        outcomes.put(agent.userId, body.replaceAll(".*\"offline\":\"([a-z_]+)\".*", "$1"));
                        return null;
                    });
                }
            }
            double closing = (System.nanoTime() - start) / 1e9;
            Set<String> available = new HashSet<>();
            agents.stream().filter(a -> a.available).forEach(a -> available.add(a.userId));
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(6);
            while (available.stream().anyMatch(u -> !connect.agentView(stack.instanceId(), u).statusName().equals("Offline"))
                    && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            running.set(false);
            schedule.interrupt();

            List<ConnectCall> calls = connect.calls().stream().filter(c -> !c.operation().startsWith("ccp:")).toList();
            List<ConnectCall> puts = calls.stream().filter(c -> c.operation().equals(ConnectEmulator.PUT_USER_STATUS)).toList();
            List<ConnectCall> okPuts = puts.stream().filter(ConnectCall::ok).toList();
            long throttled = calls.stream().filter(c -> c.outcome().equals("ThrottlingException")).count();
            long putsForOffline = puts.stream().filter(c -> !available.contains(c.userId())).count();
            long notOffline = available.stream().filter(u -> !connect.agentView(stack.instanceId(), u).statusName().equals("Offline")).count();
            long failed = outcomes.values().stream().filter("failed"::equals).count()
                    + stack.events().events().stream().filter(e -> e.path("detail-type").asText().equals("Agent Offline Failed")).count();
            Instant firstClose = closedAt.values().stream().min(Instant::compareTo).orElseThrow();
            double lastOffline = okPuts.isEmpty() ? Double.NaN : Duration.between(firstClose, okPuts.getLast().at()).toMillis() / 1000.0;
            List<Instant> availableCloses = available.stream().map(closedAt::get).sorted().toList();
            double minConnect = quotaMinimum(firstClose, availableCloses, 2, 5);
            double rate = stack.config().connectRatePerSecond();
            double minShare = quotaMinimum(firstClose, availableCloses, rate, backstop.core.connect.ConnectPacer.burstFor(rate));
            Map<String, Long> byOutcome = new java.util.TreeMap<>();
            outcomes.values().forEach(o -> byOutcome.merge(o, 1L, Long::sum));
            System.out.printf("shift-end: %d closes over %.1f s through %d beacon containers (%d Available, %d Offline by choice), quota 2 rps burst 5 an API, budget %.1f rps%n",
                    agents.size(), closing, containers, available.size(), agents.size() - available.size(), rate);
            System.out.printf("shift-end: first close to last Offline %.1f s; quota minimum %.1f s (%+.1f%%); at the configured share %.1f s (%+.1f%%)%n",
                    lastOffline, minConnect, 100 * (lastOffline / minConnect - 1), minShare, 100 * (lastOffline / minShare - 1));
            System.out.printf("shift-end: %d Connect calls (%d PutUserStatus, %d GetCurrentUserData, %d DescribeUser), %d throttled (%.2f%%)%n",
                    calls.size(), puts.size(), calls.stream().filter(c -> c.operation().equals("GetCurrentUserData")).count(),
                    calls.stream().filter(c -> c.operation().equals("DescribeUser")).count(), throttled, 100.0 * throttled / Math.max(1, calls.size()));
            System.out.printf("shift-end: close answers %s; HTTP %s; %d FAILED; %d PutUserStatus for agents already Offline; %d agents left Available%n",
                    byOutcome, new java.util.TreeSet<>(statuses), failed, putsForOffline, notOffline);
        }
    }

    /**
     * When the last of these closes could have its PutUserStatus at the earliest, with calls at {@code rate} a second
     * and a burst of {@code burst} (a token bucket starting full), from the first close.
     */
    static double quotaMinimum(Instant firstClose, List<Instant> closes, double rate, int burst) {
        double tokens = burst;
        double t = 0;
        double last = 0;
        for (Instant close : closes) {
            double arrival = Duration.between(firstClose, close).toNanos() / 1e9;
            double at = Math.max(arrival, t);
            tokens = Math.min(burst, tokens + (at - t) * rate);
            if (tokens < 1) {
                at += (1 - tokens) / rate;
                tokens = 1;
            }
            tokens -= 1;
            t = at;
            last = at;
        }
        return last;
    }

    record Agent(String userId, boolean available, SessionId session, SessionToken token) {
    }

    /**
     * Agents in the emulator (their status as they left it) and one open session each, its exemption unknown (a known
     * agent's register leaves it so when their stored profile is older than 12 h and an exempt profile is configured).
     */
    static List<Agent> seed(LocalStack stack, int count, double availableShare, Instant lastSeen) throws InterruptedException {
        DynamoSessionStore store = new DynamoSessionStore(stack.clients().dynamoDb(), stack.config().sessionsTable());
        SecureRandom random = new SecureRandom();
        List<Agent> agents = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService executor = Executors.newFixedThreadPool(8)) {
            for (int i = 0; i < count; i++) {
                boolean available = i < Math.round(count * availableShare);
                String user = "shift-" + UUID.randomUUID();
                stack.connect().addAgent(stack.instanceId(), user, user, "Shift", "Agent", "rp-support", available ? "Available" : "Offline");
                SessionId id = SessionId.random(random);
                SessionToken token = SessionToken.random(random);
                agents.add(new Agent(user, available, id, token));
                executor.submit(() -> store.createSession(new NewSession(id,
                        AgentRef.parseArn(DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + user).orElseThrow(),
                        token.hash(), lastSeen, Optional.empty(), Optional.empty(), Exemption.UNKNOWN, Optional.empty(), Integer.MAX_VALUE)));
            }
        }
        return new ArrayList<>(agents);
    }
}
