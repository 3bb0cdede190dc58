package backstop.local;

import backstop.beacon.BeaconHandler;
import backstop.beacon.BeaconWiring;
import backstop.core.aws.AwsClients;
import backstop.core.aws.ClientPolicies;
import backstop.core.config.BackstopConfig;
import backstop.core.json.Json;
import backstop.local.aws.AwsEmulation;
import backstop.local.aws.RecordingEventBridge;
import backstop.local.aws.TemplateResources;
import backstop.local.connect.ConnectEmulator;
import backstop.local.identity.JwtAuthorizer;
import backstop.local.identity.LocalIdentityProvider;
import backstop.local.workspace.LocalWorkspaceHost;
import backstop.local.workspace.ServiceBundle;
import backstop.reconciler.ReconcilerHandler;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;

/**
 * The whole backstop on one machine: the Connect emulator, AWS emulation with the template's table and bus,
 * and the local HTTP front running the same handler classes as Lambda. {@link #main} is the README's run
 * command; tests start it in-process on free ports with {@link #start(Options)}.
 */
public final class LocalStack implements AutoCloseable {
    private final Options options;
    private final AwsEmulation aws;
    private final boolean ownsAws;
    private final ConnectEmulator connect;
    private final AwsClients clients;
    private final AwsClients reconcilerClients;
    private final BackstopConfig config;
    private final Map<String, String> environment;
    private final RecordingEventBridge events;
    private final software.amazon.awssdk.services.eventbridge.EventBridgeClient busAdmin;
    private final LocalFront front;
    private final LocalIdentityProvider identity;
    private final ScheduledExecutorService scheduler;
    /** The local Agent Workspace (README "Using the Agent Workspace"), framing the service page of this front. */
    private final LocalWorkspaceHost workspace;
    private volatile boolean executorStopping;

    /**
     * How to start.
     *
     * @param frontPort 0 for a free port (tests); the README's run uses 3000
     * @param environment overrides of the functions' environment (e.g. a short STALE_AFTER_SECONDS)
     * @param schedule how often the reconciler is invoked (production: rate(1 minute)); null runs none
     */
    public record Options(int frontPort, int connectPort, int awsPort, int identityPort, String instanceId,
                          Map<String, String> environment, Duration schedule) {
        /** More than all of the sessions never go silent: the brake never engages. */
        static final Map<String, String> BRAKE_OFF = Map.of("HEARTBEAT_OUTAGE_SHARE", "1");
        /** Tests run with tagged session ids, the setting this release exists to make safe to turn on. */
        static final Map<String, String> TAGGED = Map.of("TAGGED_SESSION_IDS", "on");
        /**
         * Free ports, no scheduled reconciler (tests drive their own, on their own clock), and the brake on mass
         * staleness off: most tests crash many tabs at once on purpose (storms, races, pacing) and mean them as
         * departures. The brake's own tests turn it back on ({@link #withOutageBrake()}). Session ids are tagged.
         */
        public static Options forTests() {
            Map<String, String> environment = new HashMap<>(BRAKE_OFF);
            environment.putAll(TAGGED);
            return new Options(0, 0, 0, 0, DemoInstance.DEFAULT_INSTANCE_ID, Map.copyOf(environment), null);
        }

        /** The brake on mass staleness as deployed (the template's defaults). */
        public Options withOutageBrake() {
            Map<String, String> merged = new HashMap<>(environment);
            BRAKE_OFF.keySet().forEach(merged::remove);
            return new Options(frontPort, connectPort, awsPort, identityPort, instanceId, Map.copyOf(merged), schedule);
        }

        public Options withEnvironment(Map<String, String> overrides) {
            Map<String, String> merged = new HashMap<>(environment);
            merged.putAll(overrides);
            return new Options(frontPort, connectPort, awsPort, identityPort, instanceId, Map.copyOf(merged), schedule);
        }

        public Options withSchedule(Duration every) {
            return new Options(frontPort, connectPort, awsPort, identityPort, instanceId, environment, every);
        }
    }

    private LocalStack(Options options, AwsEmulation aws, boolean ownsAws) throws IOException {
        this(options, aws, ownsAws, 0);
    }

    private LocalStack(Options options, AwsEmulation aws, boolean ownsAws, int workspacePort) throws IOException {
        this.options = options;
        this.aws = aws;
        this.ownsAws = ownsAws;
        this.connect = ConnectEmulator.start(options.connectPort());
        this.identity = LocalIdentityProvider.start(options.identityPort());
        DemoInstance.seed(connect, options.instanceId());
        // Each function gets its own clients, with its own call policies, as in AWS.
        AwsClients created = AwsClients.create(aws.target(connect.endpoint()), AwsEmulation.policies(ClientPolicies.BEACON));
        AwsClients forReconciler = AwsClients.create(aws.target(connect.endpoint()), AwsEmulation.policies(ClientPolicies.RECONCILER));
        this.busAdmin = created.eventBridge();
        this.events = new RecordingEventBridge(created.eventBridge(), AwsEmulation.REGION.id(), DemoInstance.ACCOUNT_ID);
        this.clients = new AwsClients(created.dynamoDb(), events, created.connect(), created.httpClient());
        this.reconcilerClients = new AwsClients(forReconciler.dynamoDb(), events.sharing(forReconciler.eventBridge()),
                forReconciler.connect(), forReconciler.httpClient());
        // Unique names: several stacks (parallel test classes) can share one moto server.
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String table = "ccp-backstop-local-sessions-" + suffix;
        String bus = "ccp-backstop-local-events-" + suffix;
        TemplateResources template = TemplateResources.load(TemplateResources.findTemplate());
        template.createSessionsTable(clients.dynamoDb(), table);
        template.createEventBus(created.eventBridge(), bus);

        // Chosen before the front starts: the allowed origins name its port.
        int frontPort = options.frontPort() == 0 ? AwsEmulation.freePort() : options.frontPort();
        Map<String, String> env = new HashMap<>();
        env.put("AWS_REGION", AwsEmulation.REGION.id());
        env.put("CONNECT_INSTANCE_ARN", DemoInstance.instanceArn(options.instanceId()));
        env.put("ALLOWED_ORIGINS", "http://127.0.0.1:" + frontPort + ",http://localhost:" + frontPort);
        env.put("SESSIONS_TABLE", table);
        env.put("EVENT_BUS_NAME", bus);
        env.put("EXEMPT_ROUTING_PROFILE_IDS", DemoInstance.SUPERVISOR_PROFILE);
        TemplateResources.RouteThrottle throttle = template.routeThrottle("HttpApi");
        env.put("HEARTBEAT_ROUTE_RATE", Long.toString(Math.round(throttle.rate()))); // as the template passes it
        env.putAll(options.environment());
        this.environment = Map.copyOf(env);
        this.config = BackstopConfig.fromEnvironment(env);
        ServiceBundle.ensureBuilt(webRoot());
        this.workspace = LocalWorkspaceHost.start(workspacePort, webRoot(), new LocalWorkspaceHost.Settings(
                java.net.URI.create("http://127.0.0.1:" + frontPort + "/workspace/service.html"), connect.endpoint(),
                options.instanceId(), config.connectInstance().arn(), config.region()));
        BeaconHandler beacon = new BeaconHandler(BeaconWiring.api(config, clients, Clock.systemUTC()));
        JwtAuthorizer authorizer = new JwtAuthorizer(identity.issuer(), List.of(LocalIdentityProvider.CLIENT_ID), Clock.systemUTC());
        authorizer.warm();
        this.front = LocalFront.start(frontPort, beacon, webRoot(), config.allowedOrigins(), this::pageConfig,
                () -> OpsState.json(this), authorizer, this::pagePolicy);
        front.throttle(throttle.rate(), throttle.burst()); // as API Gateway, from the template's own settings
        this.scheduler = options.schedule() == null ? null : startReconciler(options.schedule());
    }

    /**
     * The same handler class Lambda runs, on the same kind of schedule; one invocation at a time, as reserved
     * concurrency 1 makes it in AWS. On the template's schedule it has the template's timeout; on a shorter demo schedule its budget spans the period.
     */
    private ScheduledExecutorService startReconciler(Duration every) {
        Clock clock = Clock.systemUTC();
        ReconcilerHandler handler = new ReconcilerHandler(ReconcilerWiring.reconciler(config, reconcilerClients, clock,
                ReconcilerWiring.wallClockSleeper(clock), ReconcilerMetrics.NONE), clock);
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "local-reconciler-schedule");
            thread.setDaemon(true);
            return thread;
        });
        int timeoutMillis = (int) reconcilerTimeout(every).toMillis();
        executor.scheduleAtFixedRate(() -> {
            try {
                handler.handleRequest(Map.of("source", "local-schedule"), new LocalLambdaContext("ReconcilerFunction", timeoutMillis));
            } catch (RuntimeException | Error e) {
                // A scheduled invocation that fails is followed by the next one, as the Scheduler would (an
                // executor would silently cancel the schedule on an uncaught throwable); one cut short by the
                // stack stopping is no failure.
                if (!executorStopping) {
                    org.slf4j.LoggerFactory.getLogger(LocalStack.class).error("reconciler invocation failed", e);
                }
            }
        }, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return executor;
    }

    /**
     * The invocation timeout for a schedule of {@code every}: on the template's own schedule, the template's
     * timeout (so the local cadence is the deployed one); on a shorter demo schedule, one whose budget spans the
     * period, so sweeps never pause.
     */
    static Duration reconcilerTimeout(Duration every) {
        TemplateResources template = TemplateResources.load(TemplateResources.findTemplate());
        return every.equals(template.scheduleRate("ReconcilerFunction")) ? template.timeout("ReconcilerFunction")
                : every.plus(ReconcilerHandler.SAFETY_MARGIN);
    }

    public static LocalStack start(Options options) throws IOException {
        return new LocalStack(options, AwsEmulation.shared(), false);
    }

    static Path webRoot() {
        return TemplateResources.findTemplate().getParent().resolve("web");
    }

    /** The page's config.json as the front serves it (benchmarks point a copy at another API). */
    public String pageConfigJson() {
        return pageConfig();
    }

    private String pageConfig() {
        Map<String, Object> page = new LinkedHashMap<>();
        page.put("mode", "local");
        page.put("apiBase", "");
        page.put("emulatorBase", connect.endpoint().toString());
        page.put("instanceId", options.instanceId());
        page.put("instanceArn", config.connectInstance().arn());
        page.put("region", config.region());
        page.put("agents", DemoInstance.AGENTS.stream().map(a -> Map.of("userId", a.userId(), "username", a.username(),
                "name", a.firstName() + " " + a.lastName(), "routingProfileId", a.routingProfileId())).toList());
        // The page signs in as production does (authorization code + PKCE); locally the agent is the login hint.
        page.put("auth", Map.of("issuer", identity.issuer().toString(), "clientId", LocalIdentityProvider.CLIENT_ID,
                "scope", "openid profile email"));
        return Json.write(page);
    }

    /**
     * The Content-Security-Policy header the local front sends with its pages: the page connects to itself (the
     * API is same-origin here), the Connect emulator (the simulated Streams) and the identity provider; it frames
     * and is framed by its own origin only (the production-mode check frames a local stand-in for the CCP).
     * The Agent Workspace service (web/workspace/) is framed by the local workspace instead, and connects to
     * itself and the identity provider only.
     */
    private String pagePolicy(String path) {
        java.net.URI issuer = identity.issuer();
        if (path.startsWith("/workspace/")) {
            return "connect-src 'self' " + origin(issuer) + "; frame-src 'none'; frame-ancestors " + workspace.origin();
        }
        return "connect-src 'self' " + origin(connect.endpoint()) + " " + origin(issuer)
                + "; frame-src 'self'; frame-ancestors 'self'";
    }

    private static String origin(java.net.URI uri) {
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort());
    }

    /** The local front's access log of API requests. */
    public List<String> accessLog() {
        return front.accessLog();
    }

    public List<LocalFront.AccessEntry> accessEntries() {
        return front.accessEntries();
    }

    /** The local front (API Gateway's stand-in): drills make its routes fail. */
    public LocalFront front() {
        return front;
    }

    public java.net.URI frontUrl() {
        return front.url();
    }

    public ConnectEmulator connect() {
        return connect;
    }

    /** The local Agent Workspace, another site than the front, framing its service page. */
    public LocalWorkspaceHost workspace() {
        return workspace;
    }

    /** The local identity provider (the contact centre's IdP stand-in). */
    public LocalIdentityProvider identity() {
        return identity;
    }

    /** The beacon's clients (the tests' too, for reading the table). */
    public AwsClients clients() {
        return clients;
    }

    /** The reconciler's clients: one attempt per Connect call (its pacer retries), as in AWS. */
    public AwsClients reconcilerClients() {
        return reconcilerClients;
    }

    public BackstopConfig config() {
        return config;
    }

    /** The functions' environment as this stack set it (tests derive variants of it). */
    public Map<String, String> environment() {
        return environment;
    }

    /** The events the functions published and EventBridge accepted. */
    public RecordingEventBridge events() {
        return events;
    }

    public String instanceId() {
        return options.instanceId();
    }

    @Override
    public void close() {
        executorStopping = true;
        if (scheduler != null) {
            scheduler.shutdownNow();
            try {
                scheduler.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        front.close();
        workspace.close();
        if (!ownsAws) {
            // On the JVM-wide emulation, drop what this stack created: moto slows down as it holds more.
            try {
                clients.dynamoDb().deleteTable(r -> r.tableName(config.sessionsTable()));
                busAdmin.deleteEventBus(r -> r.name(config.eventBusName()));
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(LocalStack.class).warn("cleanup of the emulation failed: {}", e.toString());
            }
        }
        clients.close();
        reconcilerClients.close();
        connect.close();
        identity.close();
        if (ownsAws) {
            aws.stop();
        }
    }

    /** The README's run command: everything on 127.0.0.1:3000/3001/3002/3003 until Ctrl-C. */
    public static void main(String[] args) throws Exception {
        int frontPort = port("BACKSTOP_FRONT_PORT", 3000);
        int connectPort = port("BACKSTOP_CONNECT_PORT", 3001);
        int awsPort = port("BACKSTOP_AWS_PORT", 3002);
        String instanceId = System.getenv().getOrDefault("BACKSTOP_INSTANCE_ID", DemoInstance.DEFAULT_INSTANCE_ID);
        Map<String, String> overrides = new HashMap<>();
        for (String name : BackstopConfig.VARIABLES) {
            String value = System.getenv("BACKSTOP_" + name);
            if (value != null) {
                overrides.put(name, value);
            }
        }
        Duration schedule = Duration.ofSeconds(port("BACKSTOP_SCHEDULE_SECONDS", 60));
        AwsEmulation aws = AwsEmulation.start(awsPort);
        int identityPort = port("BACKSTOP_IDP_PORT", 3003);
        LocalStack stack = new LocalStack(new Options(frontPort, connectPort, awsPort, identityPort, instanceId, Map.copyOf(overrides),
                schedule), aws, true, port("BACKSTOP_WORKSPACE_PORT", 3004));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("\nccp-backstop local: stopping");
            stack.close();
            stopped.countDown();
        }, "local-stack-stop"));
        System.out.println(String.join("\n", List.of(
                "ccp-backstop local stack is up",
                "  CCP page         " + stack.frontUrl() + "/ccp.html?agent=demo-ada",
                "  ops view         " + stack.frontUrl() + "/ops",
                "  Agent Workspace  " + stack.workspace().workspaceFor("demo-ada") + "   (local stand-in; service " + stack.frontUrl() + "/workspace/service.html)",
                "  beacon API       " + stack.frontUrl() + "/sessions",
                "  identity (OIDC)  " + stack.identity().issuer() + "   (local/bin/token <userId> prints a demo agent's token)",
                "  Connect emulator " + stack.connect().endpoint() + "   (aws connect ... --endpoint-url " + stack.connect().endpoint() + ")",
                "  AWS emulation    " + aws.endpoint() + " (" + aws.backend() + ")",
                "  demo instance    " + instanceId,
                "  demo agents      " + String.join(", ", DemoInstance.AGENTS.stream().map(DemoInstance.DemoAgent::userId).toList()),
                "  table / bus      " + stack.config().sessionsTable() + " / " + stack.config().eventBusName(),
                "  reconciler       every " + schedule.toSeconds() + " s, sweeping every " + stack.config().sweepIntervalSeconds()
                        + " s (stale after " + stack.config().staleAfterSeconds() + " s)",
                "Ctrl-C stops everything.")));
        stopped.await();
    }

    private static int port(String variable, int fallback) {
        String value = System.getenv(variable);
        return value == null || value.isBlank() ? fallback : Integer.parseInt(value.trim());
    }
}
