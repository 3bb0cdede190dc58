package backstop.local.bench;

import backstop.beacon.BeaconHandler;
import backstop.beacon.BeaconWiring;
import backstop.core.aws.AwsClients;
import backstop.core.config.BackstopConfig;
import backstop.local.DemoInstance;
import backstop.local.LocalLambdaContext;
import backstop.local.LocalStack;
import backstop.local.aws.AwsEmulation;
import backstop.local.aws.TemplateResources;
import backstop.local.connect.Quota;
import backstop.local.it.MovedClockContext;
import backstop.local.it.MutableClock;
import backstop.reconciler.ReconcilerHandler;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Not part of the test run: the monthly bill from measured requests. A simulated contact centre runs on a moved
 * clock through the real handlers, the real SDK and moto: {@code agents} agents register (spread over one
 * heartbeat period), beat every HEARTBEAT_SECONDS (the template's default), one in ten crashes (no beacon: the
 * reconciler closes it), the rest close their tab; the reconciler's handler runs on the template's schedule with
 * its timeout, its sweeps' sleeps moving the clock (and the beats due meanwhile delivered). Every DynamoDB request
 * is priced by {@link CapacityRules} from the item before and after, every log line the functions write is
 * counted in their JSON layout, the API's access-log line is the template's own format filled in, the functions'
 * memory and log levels are the template's. Prices: docs/prices.json (dated). What cannot be measured here is
 * said where it is used: a warm Lambda's billed milliseconds.
 * <pre>local/bin/bench cost   (BENCH_AGENTS=200 BENCH_MINUTES=10; the bill for BILL_AGENTS=1000)</pre>
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class CostBenchmark {
    static final Instant START = Instant.parse("2026-11-30T08:00:00Z");
    /** A warm beacon request's billed duration in AWS (two DynamoDB calls; one PutUserStatus for a close). Not measurable here. */
    static final Map<String, Integer> ASSUMED_BILLED_MS = Map.of("register", 60, "heartbeat", 15, "close", 60);
    /** Lambda's JSON platform lines for one invocation (platform.start, platform.report), as Lambda writes them at INFO. */
    static final String PLATFORM_LINES = "{\"time\":\"2026-11-30T08:00:00.000Z\",\"type\":\"platform.start\",\"record\":{\"requestId\":"
            + "\"6d68ca91-49c9-448d-89b8-7ca3e6dc66aa\",\"version\":\"7\"}}\n{\"time\":\"2026-11-30T08:00:00.015Z\",\"type\":"
            + "\"platform.report\",\"record\":{\"requestId\":\"6d68ca91-49c9-448d-89b8-7ca3e6dc66aa\",\"metrics\":{\"durationMs\":"
            + "14.52,\"billedDurationMs\":15,\"memorySizeMB\":1024,\"maxMemoryUsedMB\":183},\"status\":\"success\"}}\n";

    private final AtomicReference<String> operation = new AtomicReference<>("setup");
    private final Map<String, long[]> counts = new LinkedHashMap<>(); // op -> {invocations, events, connect calls}

    @Test
    void measure() throws Exception {
        int agents = Integer.getInteger("agents", 200);
        int minutes = Integer.getInteger("minutes", 10);
        int billAgents = Integer.getInteger("billAgents", 1000);
        TemplateResources template = TemplateResources.load(TemplateResources.findTemplate());
        int period = Integer.parseInt(template.parameterDefault("HeartbeatSeconds"));
        Map<String, String> defaults = Map.of("HEARTBEAT_SECONDS", String.valueOf(period),
                "STALE_AFTER_SECONDS", template.parameterDefault("StaleAfterSeconds"));
        JsonNode prices = new ObjectMapper().readTree(Files.readString(TemplateResources.findTemplate().resolveSibling("docs/prices.json")));

        try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(defaults));
             DynamoDbClient reader = client(null);
             LogBytes logs = new LogBytes(operation::get)) {
            stack.connect().setQuota(Quota.OFF);
            BackstopConfig config = stack.config();
            CapacityMeter meter = new CapacityMeter(reader, config.sessionsTable(), operation::get);
            MutableClock clock = new MutableClock(START.minusSeconds(60));
            Map<String, String> beaconEnv = new HashMap<>(stack.environment());
            beaconEnv.put("CONNECT_RATE_PER_SECOND", "100"); // first registers look every agent up: keep that pacing out of the way
            try (DynamoDbClient beaconDb = client(meter); DynamoDbClient reconcilerDb = client(meter)) {
                BeaconHandler beacon = new BeaconHandler(BeaconWiring.api(BackstopConfig.fromEnvironment(beaconEnv),
                        new AwsClients(beaconDb, stack.clients().eventBridge(), stack.clients().connect(), stack.clients().httpClient()), clock));
                String origin = config.allowedOrigins().getFirst();
                String[] sessions = new String[agents];
                String[] tokens = new String[agents];
                Instant[] nextBeat = new Instant[agents];
                boolean[] crashed = new boolean[agents];
                Instant[] began = new Instant[agents];
                Instant[] ended = new Instant[agents];
                Instant crashAt = START.plus(Duration.ofMinutes(2));
                java.util.Random random = new java.util.Random(20261130);

                Runnable[] deliver = new Runnable[1];
                AtomicReference<Instant> deliverUntil = new AtomicReference<>();
                deliver[0] = () -> {
                    String was = operation.getAndSet("heartbeat");
                    while (true) {
                        int next = -1;
                        for (int i = 0; i < agents; i++) {
                            if (nextBeat[i] != null && !nextBeat[i].isAfter(deliverUntil.get()) && (next < 0 || nextBeat[i].isBefore(nextBeat[next]))) {
                                next = i;
                            }
                        }
                        if (next < 0) {
                            break;
                        }
                        int i = next;
                        if (crashed[i] || nextBeat[i].isAfter(crashAt) && i % 10 == 0) {
                            crashed[i] = true;
                            ended[i] = nextBeat[i].minusSeconds(period); // its last beat
                            nextBeat[i] = null;
                            continue;
                        }
                        clock.set(nextBeat[i]);
                        APIGatewayV2HTTPResponse answer = invoke(stack, beacon, InProcessLatencyBenchmark.event("POST /sessions/{sessionId}/heartbeat",
                                Map.of("sessionId", sessions[i]), origin, "{\"token\":\"" + tokens[i] + "\",\"status\":{\"name\":\"Available\"}}"));
                        assertThat(answer.getStatusCode()).as("heartbeat of agent %d", i).isEqualTo(200);
                        nextBeat[i] = nextBeat[i].plusSeconds(period);
                    }
                    operation.set(was);
                };
                ReconcilerHandler reconciler = new ReconcilerHandler(ReconcilerWiring.reconciler(config,
                        new AwsClients(reconcilerDb, stack.reconcilerClients().eventBridge(), stack.reconcilerClients().connect(),
                                stack.reconcilerClients().httpClient()), clock, wake -> {
                            deliverUntil.set(wake);
                            deliver[0].run();
                            clock.set(wake);
                        }, ReconcilerMetrics.NONE), clock);
                Duration rate = template.scheduleRate("ReconcilerFunction");
                Duration timeout = template.timeout("ReconcilerFunction");

                // An idle minute first: what the reconciler costs with nobody logged in (nights, weekends).
                operation.set("reconciler-idle");
                double idleBilled = runReconciler(stack, reconciler, clock, START.minus(rate), timeout);

                for (int i = 0; i < agents; i++) {
                    String userId = "cost-" + i;
                    stack.connect().addAgent(stack.instanceId(), userId, userId, "Cost", "Agent", "rp-sales", "Available");
                    Instant at = START.plusMillis(period * 1000L * i / agents);
                    clock.set(at);
                    operation.set("register");
                    APIGatewayV2HTTPEvent register = InProcessLatencyBenchmark.event("POST /sessions", Map.of(), origin,
                            "{\"agentArn\":\"" + DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + userId + "\"}");
                    register.setRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder().withAuthorizer(
                            APIGatewayV2HTTPEvent.RequestContext.Authorizer.builder().withJwt(APIGatewayV2HTTPEvent.RequestContext.Authorizer.JWT.builder()
                                    .withClaims(Map.of("preferred_username", userId)).build()).build()).build());
                    APIGatewayV2HTTPResponse registered = invoke(stack, beacon, register);
                    assertThat(registered.getStatusCode()).isEqualTo(201);
                    sessions[i] = registered.getBody().replaceAll(".*\"sessionId\":\"([^\"]+)\".*", "$1");
                    tokens[i] = registered.getBody().replaceAll(".*\"token\":\"([^\"]+)\".*", "$1");
                    nextBeat[i] = at.plusSeconds(period).plusMillis(random.nextInt(200));
                    began[i] = nextBeat[i]; // the steady cadence: from the first beat (a shift's first 30 s are 0.1 % of it)
                }

                List<Double> billed = new ArrayList<>();
                for (int minute = 1; minute <= minutes; minute++) {
                    Instant scheduled = START.plus(rate.multipliedBy(minute));
                    deliverUntil.set(scheduled);
                    deliver[0].run();
                    operation.set("reconciler");
                    billed.add(runReconciler(stack, reconciler, clock, scheduled, timeout));
                }
                for (int i = 0; i < agents; i++) {
                    if (crashed[i] || nextBeat[i] == null) {
                        continue;
                    }
                    clock.set(nextBeat[i]);
                    ended[i] = nextBeat[i];
                    operation.set("close");
                    APIGatewayV2HTTPResponse closed = invoke(stack, beacon, InProcessLatencyBenchmark.event("POST /sessions/{sessionId}/close",
                            Map.of("sessionId", sessions[i]), origin, "{\"token\":\"" + tokens[i] + "\",\"reason\":\"pagehide\",\"status\":{\"name\":\"Available\"}}"));
                    assertThat(closed.getBody()).isEqualTo("{\"offline\":\"done\"}");
                }
                long crashes = java.util.stream.IntStream.range(0, agents).filter(i -> crashed[i]).count();
                for (int i = 0; i < agents; i++) {
                    assertThat(stack.connect().agentView(stack.instanceId(), "cost-" + i).statusName()).as("agent %d", i).isEqualTo("Offline");
                }
                double sessionHours = java.util.stream.IntStream.range(0, agents)
                        .mapToDouble(i -> Duration.between(began[i], ended[i]).toMillis() / 3_600_000.0).sum();
                report(template, prices, meter, logs, agents, minutes, period, crashes, idleBilled, billed, billAgents, sessionHours);
            }
        }
    }

    /**
     * Runs one scheduled invocation on the moved clock; its billed seconds on that clock: the sweeps' waits, which
     * is what a Lambda that sleeps between sweeps is billed for (the work itself, tenths of a second against moto,
     * is left out: it does not move the clock).
     */
    private double runReconciler(LocalStack stack, ReconcilerHandler reconciler, MutableClock clock, Instant scheduled, Duration timeout) {
        clock.set(scheduled);
        long events = stack.events().events().size();
        long calls = stack.connect().calls().size();
        reconciler.handleRequest(Map.of("source", "ccp-backstop.schedule"), new MovedClockContext(clock, scheduled.plus(timeout)));
        tally(operation.get(), stack.events().events().size() - events, stack.connect().calls().size() - calls);
        return Duration.between(scheduled, clock.instant()).toMillis() / 1000.0;
    }

    private APIGatewayV2HTTPResponse invoke(LocalStack stack, BeaconHandler beacon, APIGatewayV2HTTPEvent event) {
        long events = stack.events().events().size();
        long calls = stack.connect().calls().size();
        APIGatewayV2HTTPResponse answer = beacon.handleRequest(event, new LocalLambdaContext("BeaconFunction", 15_000));
        tally(operation.get(), stack.events().events().size() - events, stack.connect().calls().size() - calls);
        return answer;
    }

    private void tally(String op, long events, long connectCalls) {
        long[] c = counts.computeIfAbsent(op, k -> new long[3]);
        c[0]++;
        c[1] += events;
        c[2] += connectCalls;
    }

    private static DynamoDbClient client(CapacityMeter meter) {
        var builder = DynamoDbClient.builder().endpointOverride(AwsEmulation.shared().endpoint()).region(AwsEmulation.REGION)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("testing", "testing")))
                .httpClient(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create());
        if (meter != null) {
            builder.overrideConfiguration(o -> o.addExecutionInterceptor(meter));
        }
        return builder.build();
    }

    private void report(TemplateResources template, JsonNode prices, CapacityMeter meter, LogBytes logs, int agents, int minutes,
                        int period, long crashes, double idleBilled, List<Double> billed, int billAgents, double sessionHours) {
        Map<String, CapacityMeter.Tally> tallies = meter.tallies();
        System.out.printf("cost measured: %d agents, %d simulated minutes, heartbeat %d s, %d crashes (prices of %s, %s)%n",
                agents, minutes, period, crashes, prices.path("asOf").asText(), prices.path("region").asText());
        for (String op : List.of("register", "heartbeat", "close", "reconciler-idle", "reconciler")) {
            long[] c = counts.getOrDefault(op, new long[3]);
            CapacityMeter.Tally t = tallies.getOrDefault(op, new CapacityMeter.Tally());
            System.out.printf("cost per %s (%d): DynamoDB %s, %.3f write units, %.3f read units; %.3f events, %.3f Connect calls; log %.0f bytes in %.3f lines%n",
                    op, c[0], perOne(t.requests(), c[0]), t.writeUnits.sum() / c[0], t.readUnits.sum() / c[0], c[1] / (double) c[0],
                    c[2] / (double) c[0], logs.bytes(op) / (double) c[0], logs.lines(op) / (double) c[0]);
        }
        double avgBilled = billed.stream().mapToDouble(d -> d).average().orElseThrow();
        System.out.printf("cost reconciler billed: %.1f s an invocation with sessions (max %.1f), %.1f s idle; timeout %s%n",
                avgBilled, billed.stream().mapToDouble(d -> d).max().orElseThrow(), idleBilled, template.timeout("ReconcilerFunction"));

        Bill bill = new Bill(template, prices, meter, logs, counts, agents, minutes, crashes, avgBilled, sessionHours);
        System.out.printf("cost heartbeats: %.1f an agent-hour over %.1f session-hours (3600 / %d s = %.1f)%n",
                bill.beatsPerAgentHour(), sessionHours, period, 3600.0 / period);
        System.out.println("cost | part | " + billAgents + " agents, business hours (8 h x 22 days) | " + billAgents + " agents, 24x7 |");
        Map<String, double[]> parts = new LinkedHashMap<>();
        parts.put("heartbeats", new double[] {bill.heartbeats(billAgents, 176), bill.heartbeats(billAgents, 720)});
        parts.put("registers and closes (1 a shift; 1 in 10 shifts ends in a crash)", new double[] {bill.shifts(billAgents * 22.0), bill.shifts(billAgents * 90.0)});
        parts.put("reconciler while sessions are open (a full run a minute)", new double[] {bill.reconcilerWatching(billAgents, 176), bill.reconcilerWatching(billAgents, 720)});
        parts.put("reconciler with nothing open (one sweep a minute, then ends)", new double[] {bill.reconcilerIdle(176), bill.reconcilerIdle(720)});
        parts.put("CloudWatch alarms, custom metrics, dashboard", new double[] {bill.cloudWatch(), bill.cloudWatch()});
        double[] total = new double[2];
        parts.forEach((name, v) -> {
            System.out.printf("cost | %s | $%.2f | $%.2f |%n", name, v[0], v[1]);
            total[0] += v[0];
            total[1] += v[1];
        });
        System.out.printf("cost | total a month | $%.2f | $%.2f |%n", total[0], total[1]);
        bill.breakdown(billAgents).forEach(line -> System.out.println("cost heartbeat " + line));
    }

    static Map<String, String> perOne(Map<String, Long> counts, long of) {
        Map<String, String> per = new java.util.TreeMap<>();
        counts.forEach((api, count) -> per.put(api, String.format("%.2f", count / (double) of)));
        return per;
    }

    /** The month's bill from the per-operation figures measured above and the dated prices. */
    static final class Bill {
        final TemplateResources template;
        final JsonNode prices;
        final Map<String, CapacityMeter.Tally> tallies;
        final LogBytes logs;
        final Map<String, long[]> counts;
        final int agents;
        final int minutes;
        final long crashes;
        final double reconcilerBilled;
        final double sessionHours;

        Bill(TemplateResources template, JsonNode prices, CapacityMeter meter, LogBytes logs, Map<String, long[]> counts,
             int agents, int minutes, long crashes, double reconcilerBilled, double sessionHours) {
            this.sessionHours = sessionHours;
            this.template = template;
            this.prices = prices;
            this.tallies = meter.tallies();
            this.logs = logs;
            this.counts = counts;
            this.agents = agents;
            this.minutes = minutes;
            this.crashes = crashes;
            this.reconcilerBilled = reconcilerBilled;
        }

        double price(String name) {
            return prices.path(name).asDouble();
        }

        long invocations(String op) {
            return counts.getOrDefault(op, new long[3])[0];
        }

        double perOp(String op, java.util.function.ToDoubleFunction<CapacityMeter.Tally> what) {
            CapacityMeter.Tally t = tallies.get(op);
            return t == null ? 0 : what.applyAsDouble(t) / invocations(op);
        }

        /** One beacon request of this operation: API, Lambda, DynamoDB, events, logs. */
        double request(String op) {
            double gbSeconds = ASSUMED_BILLED_MS.get(op) / 1000.0 * template.memoryMb("BeaconFunction") / 1024.0;
            return price("httpApiPerMillionRequests") / 1e6
                    + price("lambdaPerMillionRequests") / 1e6 + gbSeconds * price("lambdaArmPerGbSecond")
                    + perOp(op, t -> t.writeUnits.sum()) * price("dynamoDbPerMillionWriteUnits") / 1e6
                    + perOp(op, t -> t.readUnits.sum()) * price("dynamoDbPerMillionReadUnits") / 1e6
                    + counts.getOrDefault(op, new long[3])[1] / (double) invocations(op) * price("eventBridgePerMillionEvents") / 1e6
                    + logBytes(op) / 1e9 * price("logsIngestionPerGb");
        }

        /** Log bytes a request of this operation writes: the function's lines, the platform's (unless WARN), the access log. */
        double logBytes(String op) {
            return logs.bytes(op) / (double) invocations(op) + platformBytes("BeaconFunction") + accessLogBytes(op);
        }

        @SuppressWarnings("unchecked")
        double platformBytes(String function) {
            Object config = template.properties(function).get("LoggingConfig");
            Object level = config instanceof Map<?, ?> m ? m.get("SystemLogLevel") : null;
            // "!Ref Parameter" reads as the parameter's name: what ops get is its default.
            String resolved = level == null ? "INFO" : template.hasParameter(String.valueOf(level))
                    ? template.parameterDefault(String.valueOf(level)) : String.valueOf(level);
            return "WARN".equals(resolved) ? 0 : PLATFORM_LINES.length();
        }

        @SuppressWarnings("unchecked")
        double accessLogBytes(String op) {
            Map<String, Object> settings = (Map<String, Object>) template.properties("HttpApi").get("AccessLogSettings");
            if (settings == null) {
                return 0;
            }
            String route = switch (op) {
                case "register" -> "POST /sessions";
                case "heartbeat" -> "POST /sessions/{sessionId}/heartbeat";
                default -> "POST /sessions/{sessionId}/close";
            };
            Map<String, String> sample = Map.of("requestId", "Kx1fZgT3IAMEcXw=", "routeKey", route, "status", "200",
                    "identity.sourceIp", "203.0.113.17", "responseLatency", "18", "integrationLatency", "15", "authorizer.error", "-");
            Matcher m = Pattern.compile("\\$context\\.([A-Za-z.]+)").matcher(String.valueOf(settings.get("Format")));
            StringBuilder line = new StringBuilder();
            while (m.find()) {
                m.appendReplacement(line, Matcher.quoteReplacement(sample.getOrDefault(m.group(1), "-")));
            }
            m.appendTail(line);
            return line.length() + 1;
        }

        /** Heartbeats per hour of an open session, measured: each session from its first beat to its close or last beat. */
        double beatsPerAgentHour() {
            return invocations("heartbeat") / sessionHours;
        }

        double heartbeats(int billAgents, int hoursPerAgent) {
            return billAgents * hoursPerAgent * beatsPerAgentHour() * request("heartbeat");
        }

        double shifts(double shifts) {
            double crashClose = crashes == 0 ? 0 : reconcilerWork() / crashes;
            return shifts * (request("register") + 0.9 * request("close") + 0.1 * crashClose);
        }

        /** What the reconciler's closes of crashed sessions cost, beyond reading live sessions: their units and events. */
        double reconcilerWork() {
            CapacityMeter.Tally with = tallies.get("reconciler");
            CapacityMeter.Tally idle = tallies.get("reconciler-idle");
            double idleW = idle.writeUnits.sum() / invocations("reconciler-idle");
            double writes = with.writeUnits.sum() - idleW * invocations("reconciler");
            return writes * price("dynamoDbPerMillionWriteUnits") / 1e6
                    + counts.get("reconciler")[1] * price("eventBridgePerMillionEvents") / 1e6;
        }

        /** Billed seconds of a run that ends after its first sweep: not measurable on the moved clock; 49 queries at ~5 ms. */
        static final double IDLE_RUN_SECONDS = 0.3;
        static final double MINUTES_A_MONTH = 30 * 24 * 60;

        double invocation(double billedSeconds) {
            return price("lambdaPerMillionRequests") / 1e6 + price("schedulerPerMillionInvocations") / 1e6
                    + billedSeconds * template.memoryMb("ReconcilerFunction") / 1024.0 * price("lambdaArmPerGbSecond");
        }

        /**
         * The minutes some agent is logged in (all agents' hours at once: the costliest spread): a full run each,
         * its DynamoDB reads growing with the live sessions (scaled from the simulated agents to the billed ones).
         */
        double reconcilerWatching(int billAgents, int hours) {
            double runs = hours * 60.0;
            double baseReads = 4 * perOp("reconciler-idle", t -> t.readUnits.sum()); // four sweeps' index queries
            double liveReads = Math.max(0, perOp("reconciler", t -> t.readUnits.sum()) - baseReads) * billAgents / agents;
            double logs = (this.logs.bytes("reconciler") / (double) invocations("reconciler") + platformBytes("ReconcilerFunction"))
                    / 1e9 * price("logsIngestionPerGb");
            return runs * (invocation(reconcilerBilled) + (baseReads + liveReads) * price("dynamoDbPerMillionReadUnits") / 1e6 + logs);
        }

        /** The other minutes of the month: a run that sweeps once, finds nothing open or due, and ends. */
        double reconcilerIdle(int hours) {
            double runs = Math.max(0, MINUTES_A_MONTH - hours * 60.0);
            double units = perOp("reconciler-idle", t -> t.readUnits.sum()) * price("dynamoDbPerMillionReadUnits") / 1e6
                    + perOp("reconciler-idle", t -> t.writeUnits.sum()) * price("dynamoDbPerMillionWriteUnits") / 1e6;
            double logs = (this.logs.bytes("reconciler-idle") / (double) invocations("reconciler-idle") + platformBytes("ReconcilerFunction"))
                    / 1e9 * price("logsIngestionPerGb");
            return runs * (invocation(IDLE_RUN_SECONDS) + units + logs);
        }

        @SuppressWarnings("unchecked")
        double cloudWatch() {
            long alarms = template.resources().values().stream()
                    .filter(r -> "AWS::CloudWatch::Alarm".equals(((Map<String, Object>) r).get("Type"))).count();
            // Custom metrics: each metric and dimension set the stack writes, whether the dashboard charts it or not.
            long metrics = backstop.local.template.StackMetrics.written(template).size();
            // Per-route API metrics (DetailedMetricsEnabled) are custom metrics too: six a route.
            Object routeSettings = template.properties("HttpApi").get("DefaultRouteSettings");
            boolean detailed = routeSettings instanceof Map<?, ?> s && Boolean.TRUE.equals(s.get("DetailedMetricsEnabled"));
            long routes = ((Map<String, Object>) template.properties("BeaconFunction").get("Events")).size();
            metrics += detailed ? 6 * routes : 0;
            return alarms * price("alarmPerMonth") + metrics * price("metricPerMonth") + price("dashboardPerMonth");
        }

        List<String> breakdown(int billAgents) {
            double beats = billAgents * 176 * beatsPerAgentHour();
            double gbSeconds = ASSUMED_BILLED_MS.get("heartbeat") / 1000.0 * template.memoryMb("BeaconFunction") / 1024.0;
            return List.of(
                    String.format("(%,.0f beats a month for %d agents, business hours): API $%.2f, Lambda requests $%.2f, Lambda %d ms at %d MB $%.2f,"
                                    + " DynamoDB %.3f write units $%.2f and %.3f read units $%.2f, logs %.0f bytes $%.2f (function %.0f, platform %.0f, access log %.0f)",
                            beats, billAgents, beats * price("httpApiPerMillionRequests") / 1e6, beats * price("lambdaPerMillionRequests") / 1e6,
                            ASSUMED_BILLED_MS.get("heartbeat"), template.memoryMb("BeaconFunction"), beats * gbSeconds * price("lambdaArmPerGbSecond"),
                            perOp("heartbeat", t -> t.writeUnits.sum()), beats * perOp("heartbeat", t -> t.writeUnits.sum()) * price("dynamoDbPerMillionWriteUnits") / 1e6,
                            perOp("heartbeat", t -> t.readUnits.sum()), beats * perOp("heartbeat", t -> t.readUnits.sum()) * price("dynamoDbPerMillionReadUnits") / 1e6,
                            logBytes("heartbeat"), beats * logBytes("heartbeat") / 1e9 * price("logsIngestionPerGb"),
                            logs.bytes("heartbeat") / (double) invocations("heartbeat"), platformBytes("BeaconFunction"), accessLogBytes("heartbeat")));
        }
    }
}
