package backstop.local.bench;

import backstop.beacon.BeaconApi;
import backstop.beacon.BeaconWiring;
import backstop.core.http.HttpRequest;
import backstop.core.http.HttpResponse;
import backstop.local.LocalStack;
import backstop.local.connect.ConnectCall;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.PutRequest;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A shift start at its real arrival rates: the 20,000 agents known from yesterday and 1,000 never seen of a
 * 20,000-in-15-minutes start register at 22.2 and 1.11 a second, through {@code containers} beacon handler instances
 * (each with its own state, as Lambda containers; the stack's one shared Connect budget on the table) against the
 * emulator's per-account quotas (2 rps, burst 5, an API). moto serves a slice of that start in real time: with
 * {@code shiftAgents} known agents (default 2,000) the slice lasts 900 s x shiftAgents / 20,000 and brings
 * shiftAgents / 20 never-seen agents; the rates, and so Connect's load, are the full start's (docs/benchmarks.md
 * gives the model to 20,000). Prints 503s, register latency p50/p99 for known and new agents, and Connect calls.
 * <pre>local/bin/bench shift-start   (or -Dtest=ShiftStartBenchmark -Dbench=true -DshiftAgents=2000 -DshiftContainers=4)</pre>
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class ShiftStartBenchmark {
    static final int FULL_KNOWN = 20_000;
    static final int FULL_NEW = 1_000;
    static final Duration FULL_WINDOW = Duration.ofMinutes(15);

    @Test
    void measure() throws Exception {
        int known = Integer.getInteger("shiftAgents", 2000);
        int fresh = (int) Math.round(known * (double) FULL_NEW / FULL_KNOWN);
        int containers = Integer.getInteger("shiftContainers", 4);
        double window = FULL_WINDOW.toSeconds() * (double) known / FULL_KNOWN;
        try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests())) {
            ConnectEmulator connect = stack.connect();
            connect.setQuota(Quota.OFF);
            String claim = stack.config().agentIdentityClaim();
            String instanceArn = backstop.local.DemoInstance.instanceArn(stack.instanceId());
            List<String[]> arrivals = new ArrayList<>(); // {userId, "known"|"new"}
            List<Map<String, AttributeValue>> records = new ArrayList<>();
            long yesterday = Instant.now().minus(Duration.ofHours(24)).toEpochMilli();
            for (int i = 0; i < known + fresh; i++) {
                String user = "start-" + UUID.randomUUID();
                connect.addAgent(stack.instanceId(), user, user, "Start", "Agent", "rp-support", "Offline");
                boolean isKnown = i < known;
                arrivals.add(new String[] {user, isKnown ? "known" : "new"});
                if (isKnown) {
                    // Yesterday's agent item as the store writes it (username and profile from their first register).
                    records.add(Map.of("pk", AttributeValue.fromS("AGENT#" + stack.instanceId() + "#" + user),
                            "sk", AttributeValue.fromS("AGENT"), "connectUsername", AttributeValue.fromS(user),
                            "routingProfileId", AttributeValue.fromS("rp-support"),
                            "profileCheckedAt", AttributeValue.fromN(Long.toString(yesterday)),
                            "updatedAt", AttributeValue.fromN(Long.toString(yesterday)),
                            "expiresAt", AttributeValue.fromN(Long.toString(yesterday / 1000 + 90L * 86400))));
                }
            }
            for (int from = 0; from < records.size(); from += 25) {
                List<WriteRequest> batch = records.subList(from, Math.min(records.size(), from + 25)).stream()
                        .map(item -> WriteRequest.builder().putRequest(PutRequest.builder().item(item).build()).build()).toList();
                Map<String, List<WriteRequest>> left = Map.of(stack.config().sessionsTable(), batch);
                while (!left.isEmpty()) {
                    Map<String, List<WriteRequest>> request = left;
                    left = stack.clients().dynamoDb().batchWriteItem(r -> r.requestItems(request)).unprocessedItems();
                }
            }
            List<BeaconApi> beacons = new ArrayList<>();
            for (int i = 0; i < containers; i++) {
                beacons.add(BeaconWiring.api(stack.config(), stack.clients(), Clock.systemUTC()));
            }
            connect.clearCalls();
            connect.setQuota(Quota.CONNECT_DEFAULT);

            Collections.shuffle(arrivals, new SecureRandom());
            Map<String, ConcurrentLinkedQueue<Double>> latency = new ConcurrentHashMap<>();
            Map<String, AtomicLong> statuses = new ConcurrentHashMap<>();
            long start = System.nanoTime();
            try (ExecutorService lambdas = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < arrivals.size(); i++) {
                    String[] agent = arrivals.get(i);
                    BeaconApi beacon = beacons.get(i % containers);
                    long at = start + (long) (i * window * 1e9 / arrivals.size());
                    lambdas.submit(() -> {
                        long wait = at - System.nanoTime();
                        if (wait > 0) {
                            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        }
                        long sent = System.nanoTime();
                        HttpResponse response = beacon.handle(new HttpRequest(BeaconApi.REGISTER, Map.of(),
                                Map.of("content-type", "application/json"),
                                ("{\"agentArn\":\"" + instanceArn + "/agent/" + agent[0] + "\",\"status\":{\"name\":\"Offline\"}}")
                                        .getBytes(StandardCharsets.UTF_8),
                                Map.of("sub", agent[0], claim, agent[0], "email_verified", "true")));
                        latency.computeIfAbsent(agent[1], k -> new ConcurrentLinkedQueue<>()).add((System.nanoTime() - sent) / 1e6);
                        statuses.computeIfAbsent(agent[1] + " " + response.status(), k -> new AtomicLong()).incrementAndGet();
                        return null;
                    });
                }
            }
            double took = (System.nanoTime() - start) / 1e9;
            List<ConnectCall> calls = connect.calls().stream().filter(c -> !c.operation().startsWith("ccp:")).toList();
            Map<String, Long> byOperation = new TreeMap<>();
            calls.forEach(c -> byOperation.merge(c.operation() + (c.ok() ? "" : " " + c.outcome()), 1L, Long::sum));
            long unavailable = statuses.entrySet().stream().filter(e -> e.getKey().endsWith(" 503")).mapToLong(e -> e.getValue().get()).sum();
            System.out.printf("shift-start: %d known + %d never-seen agents registered over %.0f s (slice of %d + %d in %d min at the same rates) through %d beacon containers; quota 2 rps burst 5 an API, budget %.1f rps%n",
                    known, fresh, took, FULL_KNOWN, FULL_NEW, FULL_WINDOW.toMinutes(), containers, stack.config().connectRatePerSecond());
            System.out.printf("shift-start: answers %s; %d x 503%n", new TreeMap<>(statuses), unavailable);
            for (String kind : List.of("known", "new")) {
                List<Double> sorted = latency.getOrDefault(kind, new ConcurrentLinkedQueue<>()).stream().sorted().toList();
                System.out.printf("shift-start: register %s p50 %.0f ms, p99 %.0f ms, max %.0f ms%n", kind,
                        percentile(sorted, 50), percentile(sorted, 99), sorted.isEmpty() ? Double.NaN : sorted.getLast());
            }
            System.out.printf("shift-start: %d Connect calls %s (%.3f a known agent's register)%n", calls.size(), byOperation,
                    (double) (calls.size() - fresh) / known);
        }
    }

    static double percentile(List<Double> sorted, int p) {
        return sorted.isEmpty() ? Double.NaN : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }
}
