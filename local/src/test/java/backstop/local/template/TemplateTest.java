package backstop.local.template;

import backstop.core.config.BackstopConfig;
import backstop.local.aws.TemplateResources;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** template.yaml: cfn-lint (with the SAM translator) finds nothing, and the template agrees with the code. */
class TemplateTest {
    static final Path TEMPLATE = TemplateResources.findTemplate();
    /** Lambda sets these itself; the template must not. */
    static final Set<String> RESERVED = Set.of("AWS_REGION");

    @Test
    void cfnLint_should_reportNothing() throws Exception {
        Process lint = new ProcessBuilder("cfn-lint", TEMPLATE.toString()).redirectErrorStream(true).start();
        String output = new String(lint.getInputStream().readAllBytes());
        assertThat(lint.waitFor(120, TimeUnit.SECONDS)).isTrue();

        assertThat(output).as("cfn-lint output").isEmpty();
        assertThat(lint.exitValue()).isZero();
    }

    @Test
    @SuppressWarnings("unchecked")
    void handlers_should_existAndBeLambdaHandlers_forEveryFunction() throws Exception {
        TemplateResources template = TemplateResources.load(TEMPLATE);
        int functions = 0;
        for (Map.Entry<String, Object> entry : template.resources().entrySet()) {
            Map<String, Object> resource = (Map<String, Object>) entry.getValue();
            if (!"AWS::Serverless::Function".equals(resource.get("Type"))) {
                continue;
            }
            functions++;
            String handler = (String) template.properties(entry.getKey()).get("Handler");
            String className = handler.substring(0, handler.indexOf("::"));
            Class<?> type = Class.forName(className);
            assertThat(RequestHandler.class.isAssignableFrom(type)).as(handler).isTrue();
            org.assertj.core.api.Assertions.assertThatCode(type::getConstructor)
                    .as("%s needs a public no-arg constructor (Lambda builds the handler with it)", className).doesNotThrowAnyException();
            assertThat(handler).endsWith("::handleRequest");
        }
        assertThat(functions).isPositive();
    }

    @Test
    @SuppressWarnings("unchecked")
    void environment_should_beExactlyWhatTheCodeReads() {
        Map<String, Object> root = loadRoot();
        Map<String, Object> globals = (Map<String, Object>) ((Map<String, Object>) root.get("Globals")).get("Function");
        Set<String> set = new HashSet<>(((Map<String, Object>) ((Map<String, Object>) globals.get("Environment")).get("Variables")).keySet());
        // What the code reads, recorded as it reads it (not a list kept by hand beside the code).
        Set<String> read = new HashSet<>();
        Map<String, String> environment = new HashMap<>(Map.of("AWS_REGION", "us-east-1",
                "CONNECT_INSTANCE_ARN", "arn:aws:connect:us-east-1:123456789012:instance/i", "SESSIONS_TABLE", "t", "EVENT_BUS_NAME", "b")) {
            @Override
            public String get(Object key) {
                read.add((String) key);
                return super.get(key);
            }

            @Override
            public String getOrDefault(Object key, String otherwise) {
                read.add((String) key);
                return super.getOrDefault(key, otherwise);
            }
        };
        BackstopConfig.fromEnvironment(environment);
        read.removeAll(RESERVED);
        assertThat(read).as("the code reads its variables").contains("CONNECT_INSTANCE_ARN", "SWEEP_INTERVAL_SECONDS");

        assertThat(set).isEqualTo(read);
    }

    /**
     * CloudFormation checks each origin of AllowedOrigins against its AllowedPattern at deploy; the functions check
     * ALLOWED_ORIGINS at start. One rule: an origin the deploy accepts never stops the functions with "Invalid
     * configuration", and one they would refuse (a trailing slash, a path) is refused by the deploy already.
     */
    @Test
    @SuppressWarnings("unchecked")
    void allowedOrigins_should_beRefusedAtDeploy_byTheRuleTheFunctionsApplyAtStart() {
        Map<String, Object> parameter = (Map<String, Object>) TemplateResources.load(TEMPLATE).parameters().get("AllowedOrigins");
        String allowed = (String) parameter.get("AllowedPattern");

        assertThat(allowed).isEqualTo("^(" + BackstopConfig.ORIGIN_PATTERN + ")?$");
        assertThat((String) parameter.get("ConstraintDescription")).contains("no path and no trailing slash");
        java.util.regex.Pattern deploy = java.util.regex.Pattern.compile(allowed);
        for (String origin : List.of("https://ccp.example.com", "http://127.0.0.1:3000", "", "https://ccp.example.com/",
                "https://ccp.example.com/ccp.html", "https://CCP.example.com", "ccp.example.com", "https://ccp.example.com?x")) {
            boolean deployAccepts = deploy.matcher(origin).matches();
            boolean startAccepts = startsWith(origin);
            assertThat(deployAccepts).as("'%s': the deploy accepts it as the functions do", origin).isEqualTo(startAccepts);
        }
        assertThat(deploy.matcher("https://ccp.example.com/").matches()).as("a trailing slash").isFalse();
    }

    private static boolean startsWith(String origins) {
        Map<String, String> environment = Map.of("AWS_REGION", "us-east-1", "CONNECT_INSTANCE_ARN",
                "arn:aws:connect:us-east-1:123456789012:instance/i", "SESSIONS_TABLE", "t", "EVENT_BUS_NAME", "b", "ALLOWED_ORIGINS", origins);
        try {
            BackstopConfig.fromEnvironment(environment);
            return true;
        } catch (IllegalStateException invalid) {
            return false;
        }
    }

    static com.fasterxml.jackson.databind.JsonNode runScript(String resource, java.util.function.Function<String, com.fasterxml.jackson.databind.JsonNode> parse)
            throws Exception {
        return runScript(resource, TEMPLATE, parse);
    }

    /** The CloudFormation that AWS SAM's own translator makes of {@code template}. */
    static com.fasterxml.jackson.databind.JsonNode translate(Path template) throws Exception {
        return runScript("/sam/translate.py", template, TemplateTest::json);
    }

    static com.fasterxml.jackson.databind.JsonNode runScript(String resource, Path template,
            java.util.function.Function<String, com.fasterxml.jackson.databind.JsonNode> parse) throws Exception {
        Path script = Path.of(TemplateTest.class.getResource(resource).toURI());
        Process process = new ProcessBuilder("python3", script.toString(), template.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(resource).isZero();
        return parse.apply(output);
    }

    static com.fasterxml.jackson.databind.JsonNode json(String text) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void registerRoute_should_beTheOnlyRouteBehindTheJwtAuthorizer_withTheIssuerAndAudienceParameters() throws Exception {
        // What API Gateway gets: SAM's own translation of the template.
        com.fasterxml.jackson.databind.JsonNode resources = runScript("/sam/translate.py", TemplateTest::json).path("Resources");
        com.fasterxml.jackson.databind.JsonNode body = null;
        for (com.fasterxml.jackson.databind.JsonNode resource : resources) {
            if (resource.path("Type").asText().equals("AWS::ApiGatewayV2::Api")) {
                body = resource.path("Properties").path("Body");
            }
        }
        assertThat(body).as("the HTTP API").isNotNull();
        com.fasterxml.jackson.databind.JsonNode paths = body.path("paths");
        assertThat(paths.path("/sessions").path("post").path("security").toString()).isEqualTo("[{\"AgentJwt\":[]}]");
        assertThat(paths.path("/sessions/{sessionId}/heartbeat").path("post").has("security")).isFalse();
        assertThat(paths.path("/sessions/{sessionId}/close").path("post").has("security")).isFalse();
        assertThat(body.has("security")).as("no API-wide default authorizer").isFalse();
        com.fasterxml.jackson.databind.JsonNode authorizer = body.path("components").path("securitySchemes").path("AgentJwt")
                .path("x-amazon-apigateway-authorizer");
        assertThat(authorizer.path("type").asText()).isEqualTo("jwt");
        assertThat(authorizer.path("identitySource").asText()).isEqualTo("$request.header.Authorization");
        assertThat(authorizer.path("jwtConfiguration").path("issuer").path("Ref").asText()).isEqualTo("IdentityIssuer");
        assertThat(authorizer.path("jwtConfiguration").path("audience").path("Ref").asText()).isEqualTo("IdentityAudience");
        // The browser's preflight must allow the header the authorizer reads (and SAM must not have dropped it).
        com.fasterxml.jackson.databind.JsonNode cors = body.path("x-amazon-apigateway-cors");
        assertThat(cors.path("allowOrigins").path("Ref").asText()).isEqualTo("AllowedOrigins");
        assertThat(cors.path("allowHeaders").toString()).isEqualTo("[\"authorization\",\"content-type\"]");
        assertThat(cors.path("exposeHeaders").toString()).as("the page places its renewal on the server's Date")
                .isEqualTo("[\"date\"]");
        assertThat(cors.path("allowMethods").toString()).isEqualTo("[\"POST\",\"OPTIONS\"]");
        assertThat(cors.path("maxAge").asInt()).isEqualTo(600);
    }

    @Test
    void identityIssuer_should_acceptEveryCommonProvidersIssuer_asItsTokensWriteIt_slashIncluded() {
        java.util.regex.Pattern issuer = TemplateResources.load(TEMPLATE).parameterPattern("IdentityIssuer");

        for (String deployable : List.of("https://login.microsoftonline.com/0b4c1e2a-0000-4000-8000-000000000001/v2.0",
                "https://sts.windows.net/0b4c1e2a-0000-4000-8000-000000000001/", // Entra ID v1 tokens
                "https://example-tenant.auth0.com/", "https://example-tenant.eu.auth0.com/", // Auth0 writes its slash
                "https://example.okta.com/oauth2/default", "https://example.okta.com",
                "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_AbCdEf123", "https://accounts.google.com",
                "https://sso.example.com/realms/contact-centre")) {
            assertThat(issuer.matcher(deployable).matches()).as(deployable).isTrue();
        }
        for (String refused : List.of("http://idp.example.com", "https://", "https://idp.example.com/ realm", "")) {
            assertThat(issuer.matcher(refused).matches()).as(refused).isFalse();
        }
    }

    @Test
    void guidedDeploy_should_askNoAuthenticationQuestion_since_theApiDefinesTheJwtAuthorizer() throws Exception {
        // SAM CLI's own check (auth_utils.py, run as written): an event counts as authenticated when it names an
        // authorizer or its API defines one; without the authorizer, this template drew three questions.
        List<com.fasterxml.jackson.databind.JsonNode> answers = new java.util.ArrayList<>();
        runScript("/sam/guided_auth.py", output -> {
            output.lines().filter(l -> !l.isBlank()).map(TemplateTest::json).forEach(answers::add);
            return null;
        });

        assertThat(answers).as("one entry per HttpApi event of BeaconFunction").hasSize(3);
        assertThat(answers).allSatisfy(a -> assertThat(a.path("authenticated").asBoolean()).isTrue());
    }

    @Test
    @SuppressWarnings("unchecked")
    void sessionsTable_should_haveTheSparseIndexesTheCodeQueries() {
        Map<String, Object> table = TemplateResources.load(TEMPLATE).properties("SessionsTable");
        List<Map<String, Object>> indexes = (List<Map<String, Object>>) table.get("GlobalSecondaryIndexes");

        assertThat(indexes).extracting(i -> i.get("IndexName"))
                .contains(backstop.core.session.TableLayout.OPEN_SESSIONS_INDEX, backstop.core.session.TableLayout.DUE_TRANSITIONS_INDEX);
        assertThat(((Map<String, Object>) table.get("TimeToLiveSpecification")).get("AttributeName"))
                .isEqualTo(backstop.core.session.TableLayout.EXPIRES_AT);
        assertThat(table.get("BillingMode")).isEqualTo("PAY_PER_REQUEST");
    }

    @Test
    void localTable_should_matchTheTemplate_when_builtFromIt() {
        backstop.local.aws.AwsEmulation aws = backstop.local.aws.AwsEmulation.shared();
        try (backstop.core.aws.AwsClients clients = backstop.core.aws.AwsClients.create(aws.target(null), backstop.local.aws.AwsEmulation.policies(backstop.core.aws.ClientPolicies.BEACON))) {
            String name = "template-check-" + java.util.UUID.randomUUID();
            TemplateResources.load(TEMPLATE).createSessionsTable(clients.dynamoDb(), name);

            var table = clients.dynamoDb().describeTable(r -> r.tableName(name)).table();
            assertThat(table.keySchema()).extracting(k -> k.attributeName() + ":" + k.keyTypeAsString())
                    .containsExactly("pk:HASH", "sk:RANGE");
            assertThat(table.globalSecondaryIndexes()).extracting(i -> i.indexName() + "=" + i.keySchema().stream()
                            .map(k -> k.attributeName()).toList() + " " + i.projection().projectionTypeAsString())
                    .as("the open index keys on nothing a heartbeat writes and projects nothing a heartbeat writes")
                    .containsExactlyInAnyOrder("OpenSessionsByShard=[openShard, createdAt] KEYS_ONLY",
                            "PendingTransitionsByDue=[dueShard, nextAttemptAt] ALL");
            assertThat(clients.dynamoDb().describeTimeToLive(r -> r.tableName(name)).timeToLiveDescription().attributeName())
                    .isEqualTo("expiresAt");
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void alarms_should_notifyOnCall_haveARunbookEntry_andWatchMetricsThatExist() throws Exception {
        TemplateResources template = TemplateResources.load(TEMPLATE);
        String runbook = java.nio.file.Files.readString(TEMPLATE.getParent().resolve("docs/runbook.md"));
        int alarms = 0;
        for (Map.Entry<String, Object> entry : template.resources().entrySet()) {
            Map<String, Object> resource = (Map<String, Object>) entry.getValue();
            if (!"AWS::CloudWatch::Alarm".equals(resource.get("Type"))) {
                continue;
            }
            alarms++;
            Map<String, Object> alarm = template.properties(entry.getKey());
            assertThat((List<Object>) alarm.get("AlarmActions")).as(entry.getKey()).containsExactly("AlarmTopic");
            assertThat(runbook).as("runbook entry for %s", entry.getKey()).contains("## " + entry.getKey());
            if ("ccp-backstop".equals(alarm.get("Namespace"))) {
                assertThat(backstop.reconciler.PowertoolsReconcilerMetrics.METRIC_NAMES).as(entry.getKey())
                        .contains((String) alarm.get("MetricName"));
                assertThat((List<Map<String, Object>>) alarm.get("Dimensions"))
                        .containsExactly(Map.of("Name", "service", "Value", "reconciler"));
            }
            if (alarm.containsKey("Metrics")) {
                // Metric math over our own metrics: each term is a metric the function of its dimension writes.
                for (Map<String, Object> query : (List<Map<String, Object>>) alarm.get("Metrics")) {
                    Map<String, Object> stat = (Map<String, Object>) query.get("MetricStat");
                    if (stat == null) {
                        continue;
                    }
                    Map<String, Object> metric = (Map<String, Object>) stat.get("Metric");
                    String service = (String) ((List<Map<String, Object>>) metric.get("Dimensions")).getFirst().get("Value");
                    List<String> written = service.equals("beacon") ? backstop.beacon.BeaconMetrics.METRIC_NAMES
                            : backstop.reconciler.PowertoolsReconcilerMetrics.METRIC_NAMES;
                    assertThat(metric.get("Namespace")).isEqualTo("ccp-backstop");
                    assertThat(written).as("%s: %s of service %s", entry.getKey(), metric.get("MetricName"), service)
                            .contains((String) metric.get("MetricName"));
                }
            }
            if ("AWS/ApiGateway".equals(alarm.get("Namespace"))) {
                // HTTP APIs publish 4xx/5xx with dimension ApiId (REST APIs' 5XXError would never fire here).
                assertThat(alarm.get("MetricName")).isIn("4xx", "5xx", "Latency", "IntegrationLatency", "Count");
                assertThat((List<Map<String, Object>>) alarm.get("Dimensions")).extracting(d -> d.get("Name")).containsExactly("ApiId");
            }
        }
        assertThat(alarms).isGreaterThanOrEqualTo(7);
    }

    /**
     * HTTP APIs publish AWS/ApiGateway metrics on three dimension sets (API Gateway developer guide, "Monitor
     * CloudWatch metrics for HTTP APIs"): ApiId; ApiId, Stage; and, with detailed metrics, ApiId, Method, Resource,
     * Stage per route. A widget on any other set (REST's ApiName, a "Route" dimension) charts nothing.
     */
    @Test
    @SuppressWarnings("unchecked")
    void dashboard_should_chartApiGatewayMetrics_onDimensionsHttpApisPublish_forRoutesThatExist() throws Exception {
        TemplateResources template = TemplateResources.load(TEMPLATE);
        String body = ((String) template.properties("Dashboard").get("DashboardBody")).replaceAll("\\$\\{[^}]+}", "sub");
        Set<Set<String>> published = Set.of(Set.of("ApiId"), Set.of("ApiId", "Stage"), Set.of("ApiId", "Method", "Resource", "Stage"));
        Set<String> routes = new HashSet<>();
        for (Map<String, Object> event : ((Map<String, Map<String, Object>>) template.properties("BeaconFunction").get("Events")).values()) {
            Map<String, Object> properties = (Map<String, Object>) event.get("Properties");
            routes.add(properties.get("Method") + " " + properties.get("Path"));
        }
        int charted = 0;
        for (List<String> metric : dashboardMetrics(body)) {
            if (!metric.getFirst().equals("AWS/ApiGateway")) {
                continue;
            }
            Map<String, String> dimensions = new java.util.LinkedHashMap<>();
            for (int i = 2; i + 1 < metric.size(); i += 2) {
                dimensions.put(metric.get(i), metric.get(i + 1));
            }
            assertThat(published).as("dimensions of %s", metric).contains(dimensions.keySet());
            if (dimensions.containsKey("Resource")) {
                assertThat(routes).as("route of %s", metric).contains(dimensions.get("Method") + " " + dimensions.get("Resource"));
            }
            charted++;
        }
        assertThat(charted).as("API Gateway metrics on the dashboard").isPositive();
    }

    /**
     * Every metric a dashboard body charts, as [namespace, name, dimension, value, ...], with CloudWatch's shorthand
     * resolved: "." repeats the row above's item at that place, "..." the row above's remaining items.
     */
    static List<List<String>> dashboardMetrics(String body) throws java.io.IOException {
        List<List<String>> metrics = new java.util.ArrayList<>();
        for (com.fasterxml.jackson.databind.JsonNode widget : new com.fasterxml.jackson.databind.ObjectMapper().readTree(body).path("widgets")) {
            List<String> previous = List.of();
            for (com.fasterxml.jackson.databind.JsonNode row : widget.path("properties").path("metrics")) {
                List<String> metric = new java.util.ArrayList<>();
                for (int i = 0; i < row.size(); i++) {
                    if (row.get(i).isObject()) {
                        continue; // rendering options
                    }
                    String item = row.get(i).asText();
                    if (item.equals("...")) {
                        metric.addAll(previous.subList(metric.size(), previous.size()));
                    } else {
                        metric.add(item.equals(".") ? previous.get(i) : item);
                    }
                }
                previous = metric;
                metrics.add(metric);
            }
        }
        return metrics;
    }

    /** A close with every call at its pinned limit still answers: inside the function's timeout and API Gateway's 30 s. */
    @Test
    void beaconTimeout_should_coverTheWorstCaseClose_andStayUnderApiGateways30Seconds() {
        java.time.Duration timeout = TemplateResources.load(TEMPLATE).timeout("BeaconFunction");

        assertThat(timeout).isGreaterThan(backstop.core.aws.ClientPolicies.BEACON.worstCaseClose())
                .isLessThan(java.time.Duration.ofSeconds(30));
    }

    /**
     * Lambda keeps 100 of the account's concurrency unreserved, so a reservation of 1 fails the stack in accounts
     * whose quota is under 101: 0 must leave the property out (no reservation), not reserve 0 (which stops the function).
     */
    @Test
    void reconcilerReservedConcurrency_should_beOneByDefault_andLeftOut_whenZero() throws Exception {
        com.fasterxml.jackson.databind.JsonNode translated = translate(TEMPLATE);
        com.fasterxml.jackson.databind.JsonNode reserved = translated.path("Resources").path("ReconcilerFunction").path("Properties")
                .path("ReservedConcurrentExecutions");
        TemplateResources template = TemplateResources.load(TEMPLATE);

        assertThat(template.parameterDefault("ReconcilerReservedConcurrency")).isEqualTo("1");
        assertThat(intrinsics(Map.of("ReconcilerReservedConcurrency", "1"), translated).evaluate(reserved)).isEqualTo("1");
        assertThat(intrinsics(Map.of("ReconcilerReservedConcurrency", "0"), translated).evaluate(reserved)).isSameAs(Intrinsics.NO_VALUE);
        assertThat(translated.path("Parameters").path("ReconcilerReservedConcurrency").path("AllowedValues").toString()).isEqualTo("[0,1]");
    }

    /**
     * The route throttle and the beacon's reserved concurrency follow ExpectedAgents (README, Capacity: agents / 30 s
     * x 6, twice that for the burst, a quarter of that rate for the concurrency: Lambda serves 10 requests a second per
     * concurrent execution); "none" leaves the
     * reservation out for accounts whose quota is too low.
     */
    @Test
    void capacity_should_followExpectedAgents() throws Exception {
        com.fasterxml.jackson.databind.JsonNode translated = translate(TEMPLATE);
        com.fasterxml.jackson.databind.JsonNode reserved = translated.path("Resources").path("BeaconFunction").path("Properties")
                .path("ReservedConcurrentExecutions");
        com.fasterxml.jackson.databind.JsonNode api = translated.path("Resources").path("HttpApiApiGatewayDefaultStage")
                .path("Properties").path("DefaultRouteSettings");
        for (int agents : new int[] {1000, 5000, 20000, 50000, 100000}) {
            Intrinsics sized = intrinsics(Map.of("ExpectedAgents", Integer.toString(agents), "BeaconReservedConcurrency", "sized"), translated);
            int rate = agents / 30 * 6;
            assertThat(Integer.parseInt((String) sized.evaluate(api.path("ThrottlingRateLimit")))).as("%d agents: rate", agents)
                    .isBetween(rate, rate + rate / 100 + 1);
            assertThat(Integer.parseInt((String) sized.evaluate(api.path("ThrottlingBurstLimit"))))
                    .isEqualTo(2 * Integer.parseInt((String) sized.evaluate(api.path("ThrottlingRateLimit"))));
            assertThat(Integer.parseInt((String) sized.evaluate(reserved)))
                    .isEqualTo(Integer.parseInt((String) sized.evaluate(api.path("ThrottlingRateLimit"))) / 4);
        }
        assertThat(intrinsics(Map.of("ExpectedAgents", "1000", "BeaconReservedConcurrency", "none"), translated).evaluate(reserved))
                .isSameAs(Intrinsics.NO_VALUE);
        assertThat(TemplateResources.load(TEMPLATE).routeThrottle("HttpApi"))
                .as("what the local front applies: the default's").isEqualTo(new TemplateResources.RouteThrottle(200, 400));
    }

    /**
     * Whatever the arithmetic, at every ExpectedAgents size the template allows, with the page's default heartbeat:
     * the route carries every agent's beats with two tabs each and every beat sent twice (a lost beat is retried
     * once), so no working agent loses a beat to the backstop's own throttle; its burst holds two seconds of that
     * rate; the brake measures floods against the rate the route really has (HEARTBEAT_ROUTE_RATE); and the
     * beacon's reserved concurrency lets Lambda serve the whole rate (Lambda serves at most 10 requests a second per
     * concurrent execution, https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html, so this also
     * allows every request 100 ms on average), so the route's throttle, not the function's, is what limits.
     */
    @Test
    void capacity_should_carryEveryHeartbeatWithRoomForRetries_atEverySize() throws Exception {
        com.fasterxml.jackson.databind.JsonNode translated = translate(TEMPLATE);
        com.fasterxml.jackson.databind.JsonNode beacon = translated.path("Resources").path("BeaconFunction").path("Properties");
        com.fasterxml.jackson.databind.JsonNode api = translated.path("Resources").path("HttpApiApiGatewayDefaultStage")
                .path("Properties").path("DefaultRouteSettings");
        int heartbeatSeconds = translated.path("Parameters").path("HeartbeatSeconds").path("Default").asInt();
        List<Integer> sizes = new java.util.ArrayList<>();
        translated.path("Parameters").path("ExpectedAgents").path("AllowedValues").forEach(v -> sizes.add(v.asInt()));
        assertThat(heartbeatSeconds).isPositive();
        assertThat(sizes).as("the sizes README names").contains(1000, 20000, 100000);
        for (int agents : sizes) {
            Intrinsics sized = intrinsics(Map.of("ExpectedAgents", Integer.toString(agents), "BeaconReservedConcurrency", "sized"), translated);
            double rate = Double.parseDouble(String.valueOf(sized.evaluate(api.path("ThrottlingRateLimit"))));
            double burst = Double.parseDouble(String.valueOf(sized.evaluate(api.path("ThrottlingBurstLimit"))));
            double beats = (double) agents / heartbeatSeconds;
            assertThat(rate).as("%d agents: two tabs each, every beat sent twice (%.0f/s)", agents, 4 * beats).isGreaterThanOrEqualTo(4 * beats);
            assertThat(burst).as("%d agents: the burst holds two seconds of the rate", agents).isGreaterThanOrEqualTo(2 * rate);
            assertThat(Double.parseDouble(String.valueOf(sized.evaluate(beacon.path("Environment").path("Variables").path("HEARTBEAT_ROUTE_RATE")))))
                    .as("%d agents: the rate the brake measures floods against is the route's", agents).isEqualTo(rate);
            int reserved = Integer.parseInt(String.valueOf(sized.evaluate(beacon.path("ReservedConcurrentExecutions"))));
            assertThat(10.0 * reserved).as("%d agents: Lambda serves the route's whole rate with the reserved concurrency", agents)
                    .isGreaterThanOrEqualTo(rate);
        }
    }

    /**
     * SAM publishes a new version, and moves the alias the events target, only when the Version's logical id
     * changes: by default a hash of the code, Environment, MemorySize and SnapStart. With AutoPublishAliasAllProperties
     * a new Timeout (or Handler, LoggingConfig...) reaches `live` too, not just $LATEST.
     */
    @Test
    @SuppressWarnings("unchecked")
    void timeoutChange_should_publishANewVersionBehindTheAlias_sinceAutoPublishAliasAllProperties() throws Exception {
        Map<String, Object> globals = (Map<String, Object>) TemplateResources.load(TEMPLATE).globals().get("Function");
        assertThat(globals.get("AutoPublishAliasAllProperties")).isEqualTo(true);
        String template = java.nio.file.Files.readString(TEMPLATE);
        String timeout = "      Timeout: 58\n";
        String allProperties = "    AutoPublishAliasAllProperties: true\n";
        assertThat(template).as("ReconcilerFunction's own timeout, which this test changes").contains(timeout).contains(allProperties);

        String before = liveVersion(translate(TEMPLATE), "ReconcilerFunction");
        String after = liveVersion(translateVariant(template.replace(timeout, "      Timeout: 57\n")), "ReconcilerFunction");
        String beforeByDefault = liveVersion(translateVariant(template.replace(allProperties, "")), "ReconcilerFunction");
        String afterByDefault = liveVersion(translateVariant(template.replace(allProperties, "").replace(timeout, "      Timeout: 57\n")),
                "ReconcilerFunction");

        assertThat(after).as("the version `live` points at after a new Timeout").startsWith("ReconcilerFunctionVersion").isNotEqualTo(before);
        assertThat(afterByDefault).as("SAM's default would publish nothing").isEqualTo(beforeByDefault);
    }

    static com.fasterxml.jackson.databind.JsonNode translateVariant(String template) throws Exception {
        Path variant = java.nio.file.Files.createTempFile("template-variant-", ".yaml");
        try {
            return translate(java.nio.file.Files.writeString(variant, template));
        } finally {
            java.nio.file.Files.deleteIfExists(variant);
        }
    }

    /** The logical id of the Version the function's `live` alias points at. */
    static String liveVersion(com.fasterxml.jackson.databind.JsonNode translated, String function) {
        com.fasterxml.jackson.databind.JsonNode alias = translated.path("Resources").path(function + "Aliaslive");
        assertThat(alias.path("Type").asText()).as("%s's alias live", function).isEqualTo("AWS::Lambda::Alias");
        return alias.path("Properties").path("FunctionVersion").path("Fn::GetAtt").get(0).asText();
    }

    /**
     * EventBridge Scheduler names are at most 64 characters of [0-9a-zA-Z-_.] (AWS::Scheduler::Schedule Name) and a
     * stack name up to 128: a name built from the stack name fails to deploy past 53 characters of it. The name
     * must fit for the longest stack name in every partition, differ between stacks, and be the one the output gives.
     */
    @Test
    void reconcilerScheduleName_should_fitSchedulersLimit_andDifferPerStack_forTheLongestStackName() throws Exception {
        com.fasterxml.jackson.databind.JsonNode translated = translate(TEMPLATE);
        com.fasterxml.jackson.databind.JsonNode schedule = null;
        for (com.fasterxml.jackson.databind.JsonNode resource : translated.path("Resources")) {
            if (resource.path("Type").asText().equals("AWS::Scheduler::Schedule")) {
                schedule = resource.path("Properties");
            }
        }
        assertThat(schedule).as("the reconciler's schedule").isNotNull();
        String stackName = "c" + "-backstop-with-a-very-long-name".repeat(4) + "x".repeat(127 - 4 * 31);
        assertThat(stackName).hasSize(128).matches("[a-zA-Z][-a-zA-Z0-9]*");
        Set<String> names = new HashSet<>();
        for (String partition : List.of("aws", "aws-cn", "aws-us-gov")) {
            for (String uuid : List.of("51af3dc0-da77-11e4-872e-1234567db123", "9f1c2b7e-0d3a-4e59-b8a1-7c2e5d4f6a90")) {
                Map<String, String> refs = Map.of("AWS::StackName", stackName,
                        "AWS::StackId", "arn:" + partition + ":cloudformation:us-east-1:123456789012:stack/" + stackName + "/" + uuid);
                Intrinsics cfn = intrinsics(refs, translated);
                String name = (String) cfn.evaluate(schedule.path("Name"));

                assertThat(name).hasSizeLessThanOrEqualTo(64).matches("[0-9a-zA-Z-_.]+").endsWith(uuid);
                assertThat(cfn.evaluate(translated.path("Outputs").path("ReconcilerScheduleName").path("Value"))).isEqualTo(name);
                assertThat((String) cfn.evaluate(schedule.path("Description"))).contains(stackName).hasSizeLessThanOrEqualTo(512);
                names.add(name);
            }
        }
        assertThat(names).as("one name per stack id").hasSize(2);
    }

    static Intrinsics intrinsics(Map<String, String> refs, com.fasterxml.jackson.databind.JsonNode translated) {
        return new Intrinsics(refs, translated.path("Conditions"), translated.path("Mappings"));
    }

    static Map<String, Object> loadRoot() {
        return Map.of("Globals", TemplateResources.load(TEMPLATE).globals());
    }
}
