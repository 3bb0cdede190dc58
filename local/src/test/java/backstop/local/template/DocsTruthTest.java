package backstop.local.template;

import backstop.core.aws.CallPolicy;
import backstop.core.aws.ClientPolicies;
import backstop.core.config.BackstopConfig;
import backstop.core.connect.ConnectPacer;
import backstop.core.transition.Backoff;
import backstop.local.aws.TemplateResources;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static backstop.local.template.TemplateTest.TEMPLATE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * README.md and docs/ against what the template and the code do: the defaults, the guided deploy's prompts, the
 * commands and files they name, the log lines and names on-call is told to look for, and the figures derived from
 * the code. Each test reads the docs as they are, so it fails the day one of them drifts.
 */
class DocsTruthTest {
    static final Path ROOT = TEMPLATE.getParent();
    static final TemplateResources STACK = TemplateResources.load(TEMPLATE);
    /** What Lambda sets, not the template. */
    static final Set<String> LAMBDA_SETS = Set.of("AWS_REGION");
    /** Enough for BackstopConfig to start: every variable it requires. */
    static final Map<String, String> REQUIRED = Map.of("AWS_REGION", "us-east-1",
            "CONNECT_INSTANCE_ARN", "arn:aws:connect:us-east-1:123456789012:instance/i", "SESSIONS_TABLE", "t", "EVENT_BUS_NAME", "b");
    /**
     * Names AWS publishes that the docs point on-call at, which neither the template nor the code holds: CloudWatch
     * metrics and their dimensions (AWS/Lambda, AWS/DynamoDB, AWS/ApiGateway), and Lambda's own error code.
     */
    static final Set<String> AWS_NAMES = Set.of("ConcurrentExecutions", "Throttles", "Errors", "Duration", "Invocations",
            "AsyncEventsDropped", "OnlineIndexPercentageProgress", "TableName", "GlobalSecondaryIndexName", "FunctionName",
            "ApiId", "IntegrationLatency", "Latency", "Count", "4xx", "5xx", "SnapStartNotReadyException",
            "FilterArns"); // FilterArns: EventBridge ReplayDestination
    static final Pattern BACKTICKED = Pattern.compile("`([^`\\n]+)`");
    static final Pattern TWO_HUMPS = Pattern.compile("[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+");

    // ---- defaults -------------------------------------------------------------------------------------------

    /**
     * README's Configuration table: each variable's default is the template's (its parameter's Default, or the value
     * it sets) and the code's (BackstopConfig starts the same with the variable unset as with it set to that value);
     * "required" is what the code refuses to start without, "from the stack" what the template sets from a resource.
     */
    @Test
    void readmeDefaults_should_beTheTemplatesAndTheCodes() {
        Map<String, String> documented = configurationTable();
        Set<String> expected = new TreeSet<>(BackstopConfig.VARIABLES);
        expected.removeAll(LAMBDA_SETS);
        assertThat(documented.keySet()).as("README's Configuration table: one entry per variable the code reads").isEqualTo(expected);

        for (Map.Entry<String, String> entry : documented.entrySet()) {
            String variable = entry.getKey();
            String cell = entry.getValue();
            Object setTo = environment().get(variable);
            String parameter = setTo instanceof List<?> join ? (String) join.get(1) : (String) setTo;
            if (cell.equals("from the stack")) {
                assertThat(STACK.resources()).as("%s: set from a resource of the stack", variable).containsKey(parameter);
                continue;
            }
            if (cell.equals("required")) {
                assertThat(requires(variable)).as("%s: README says required; the code starts without it", variable).isTrue();
                assertThat(STACK.hasParameter(parameter) && !hasDefault(parameter)).as("%s: a parameter without default", variable).isTrue();
                continue;
            }
            assertThat(requires(variable)).as("%s: the code requires it; README gives a default (%s)", variable, cell).isFalse();
            String value = cell.replaceFirst(" \\(.*", "").replace("`", "");
            value = value.equals("empty") ? "" : value;
            if (setTo instanceof List<?> findInMap && findInMap.size() == 3) { // !FindInMap [Map, !Ref Parameter, Key]
                assertThat(STACK.numberAtDefaults(setTo).longValue()).as("%s: the template's %s at the defaults", variable, findInMap)
                        .isEqualTo(Long.parseLong(value));
            } else if (STACK.hasParameter(parameter)) {
                if (hasDefault(parameter)) {
                    assertThat(STACK.parameterDefault(parameter)).as("%s: template parameter %s's Default", variable, parameter).isEqualTo(value);
                } else {
                    assertThat(cell).as("%s: README must say the parameter %s has no default", variable, parameter).contains("no default");
                }
            } else {
                assertThat(parameter).as("%s: the constant template.yaml sets", variable).isEqualTo(value);
            }
            // An empty list is written "," so that a fallback of the code's (which an empty value would select) shows.
            assertThat(BackstopConfig.fromEnvironment(with(variable, value.isEmpty() ? "," : value)))
                    .as("%s=%s is the code's own default", variable, value).isEqualTo(BackstopConfig.fromEnvironment(REQUIRED));
        }
    }

    /** "`NAME` (30)" or "`NAME` (default `x`)" anywhere in the docs, for a variable or a parameter: its default. */
    @Test
    void defaultsNamedInProse_should_beTheDefaults() {
        Pattern named = Pattern.compile("`([A-Za-z][A-Za-z0-9_]+)` \\((?:default )?`?([0-9][0-9.]*|[a-z_-]+)`?\\)");
        Map<String, String> configDefaults = new HashMap<>();
        environment().forEach((variable, setTo) -> {
            String parameter = setTo instanceof List<?> join ? (String) join.get(1) : (String) setTo;
            if (STACK.hasParameter(parameter) && hasDefault(parameter)) {
                configDefaults.put(variable, STACK.parameterDefault(parameter));
            }
        });
        int checked = 0;
        for (Map.Entry<String, String> doc : docs().entrySet()) {
            Matcher m = named.matcher(doc.getValue());
            while (m.find()) {
                String name = m.group(1);
                String expected = STACK.hasParameter(name) && hasDefault(name) ? STACK.parameterDefault(name) : configDefaults.get(name);
                if (expected != null) {
                    assertThat(m.group(2)).as("%s: %s", doc.getKey(), m.group()).isEqualTo(expected);
                    checked++;
                }
            }
        }
        assertThat(checked).as("defaults named in prose").isGreaterThanOrEqualTo(3);
    }

    // ---- the guided deploy -----------------------------------------------------------------------------------

    /**
     * SAM CLI's guided deploy (samcli/commands/deploy/guided_context.py, `guided_prompts`): stack name and Region,
     * then `prompt_parameters` over the template's Parameters in their order, then its own questions. README's
     * table lists them so, marks the parameters without a Default required and starts the others with it.
     */
    @Test
    void guidedDeployPrompts_should_beTheTemplatesParametersInOrder_withTheRequiredOnesMarked() {
        Map<String, String> table = table(readme(), "`sam deploy --guided` asks");
        List<String> expected = new ArrayList<>(List.of("Stack Name", "AWS Region"));
        STACK.parameters().keySet().forEach(name -> expected.add("Parameter " + name));
        expected.addAll(List.of("Confirm changes before deploy", "Allow SAM CLI IAM role creation", "Disable rollback",
                "BeaconFunction may not have authorization defined, Is this okay?", "Save arguments to configuration file",
                "Deploy this changeset?"));

        assertThat(table.keySet().stream().map(p -> p.replace("`", "")).toList()).as("README's prompts, in SAM CLI's order").isEqualTo(expected);
        int required = 0;
        for (String parameter : STACK.parameters().keySet()) {
            String answer = table.get("`Parameter " + parameter + "`");
            if (hasDefault(parameter)) {
                String value = STACK.parameterDefault(parameter);
                assertThat(answer).as("%s: starts with its default", parameter)
                        .startsWith(value.isEmpty() ? "default empty" : "default `" + value + "`");
            } else {
                assertThat(answer).as("%s has no default", parameter).startsWith("**required**");
                required++;
            }
        }
        says("README.md", "The " + NUMBERS.get(required) + " marked **required**", "the parameters without a default");
    }

    /** docs/samconfig.example.toml: overrides of real parameters, inside their constraints, at the defaults README calls them. */
    @Test
    @SuppressWarnings("unchecked")
    void samconfigExample_should_overrideParametersWithValuesInsideTheirConstraints() {
        Matcher line = Pattern.compile("(?m)^parameter_overrides = \"([^\"]*)\"$").matcher(read("docs/samconfig.example.toml"));
        assertThat(line.find()).as("parameter_overrides in the example").isTrue();
        List<String> overrides = List.of(line.group(1).trim().split("\\s+"));
        assertThat(overrides).isNotEmpty();
        says("README.md", "cp docs/samconfig.example.toml samconfig.toml   # optional: safe defaults", "what README calls the example");

        for (String override : overrides) {
            String name = override.substring(0, override.indexOf('='));
            String value = override.substring(override.indexOf('=') + 1);
            assertThat(STACK.parameters()).as("%s: a parameter of template.yaml", override).containsKey(name);
            Map<String, Object> parameter = (Map<String, Object>) STACK.parameters().get(name);
            if (parameter.containsKey("AllowedValues")) {
                assertThat(((List<Object>) parameter.get("AllowedValues")).stream().map(String::valueOf)).as("%s: AllowedValues", override).contains(value);
            }
            if (parameter.containsKey("AllowedPattern")) {
                assertThat(value).as("%s: AllowedPattern", override).matches((String) parameter.get("AllowedPattern"));
            }
            if (parameter.containsKey("MinValue")) {
                assertThat(Double.parseDouble(value)).as("%s: MinValue", override).isGreaterThanOrEqualTo(Double.parseDouble(String.valueOf(parameter.get("MinValue"))));
            }
            if (parameter.containsKey("MaxValue")) {
                assertThat(Double.parseDouble(value)).as("%s: MaxValue", override).isLessThanOrEqualTo(Double.parseDouble(String.valueOf(parameter.get("MaxValue"))));
            }
            if (parameter.containsKey("MinLength")) {
                assertThat(value.length()).as("%s: MinLength", override).isGreaterThanOrEqualTo(((Number) parameter.get("MinLength")).intValue());
            }
            if (parameter.containsKey("MaxLength")) {
                assertThat(value.length()).as("%s: MaxLength", override).isLessThanOrEqualTo(((Number) parameter.get("MaxLength")).intValue());
            }
            assertThat(value).as("%s: README offers the example as safe defaults", override).isEqualTo(STACK.parameterDefault(name));
        }
    }

    // ---- commands, options, files -----------------------------------------------------------------------------

    /**
     * Every `local/bin/X` the docs show is a script there, and every word they pass it is one the script's own usage
     * lines show (and, for a bash script, one its code handles); every BACKSTOP_ and BENCH_ setting is one read.
     */
    @Test
    void localBinCommands_should_existWithTheOptionsTheDocsShow() {
        Pattern command = Pattern.compile("local/bin/([a-z][a-z0-9-]*)((?: [a-z][a-z0-9-]*)*)");
        int withOptions = 0;
        for (Map.Entry<String, String> doc : docs().entrySet()) {
            for (String snippet : code(doc.getValue())) {
                Matcher m = command.matcher(snippet);
                while (m.find()) {
                    Path script = ROOT.resolve("local/bin/" + m.group(1));
                    assertThat(script).as("%s: %s", doc.getKey(), m.group()).isRegularFile();
                    String source = read("local/bin/" + m.group(1));
                    List<String> usage = source.lines().filter(l -> l.contains("local/bin/" + m.group(1) + " ")).toList();
                    String code = source.lines().filter(l -> !l.stripLeading().startsWith("#")).reduce("", (a, b) -> a + "\n" + b);
                    for (String option : m.group(2).trim().split(" ")) {
                        if (option.isEmpty()) {
                            continue;
                        }
                        assertThat(usage).as("%s: %s: '%s' in the script's usage lines", doc.getKey(), m.group(), option)
                                .anySatisfy(l -> assertThat(l).containsPattern("[ (]" + Pattern.quote(option) + "\\b"));
                        if (source.startsWith("#!/usr/bin/env bash")) {
                            assertThat(code).as("%s: '%s' handled by local/bin/%s", doc.getKey(), option, m.group(1))
                                    .containsPattern("[\\[|( ]" + Pattern.quote(option) + "[]|)= ]");
                        }
                        withOptions++;
                    }
                }
            }
        }
        assertThat(withOptions).as("options shown").isGreaterThanOrEqualTo(8);

        String localMain = sources("local/src/main/java");
        String bench = read("local/bin/bench");
        for (Map.Entry<String, String> doc : docs().entrySet()) {
            Matcher setting = Pattern.compile("\\b(BACKSTOP_[A-Z][A-Z_]*[A-Z]|BENCH_[A-Z_]*[A-Z]|BILL_AGENTS)\\b").matcher(doc.getValue());
            while (setting.find()) {
                String name = setting.group(1);
                if (name.startsWith("BACKSTOP_")) {
                    assertThat(BackstopConfig.VARIABLES.contains(name.substring("BACKSTOP_".length())) || localMain.contains("\"" + name + "\""))
                            .as("%s: %s is read by the local stack", doc.getKey(), name).isTrue();
                } else {
                    assertThat(bench).as("%s: %s is read by local/bin/bench", doc.getKey(), name).contains("${" + name);
                }
            }
        }
    }

    /** Every repository path the docs name (in backticks or as a link) exists; build outputs and npm's excepted. */
    @Test
    void filePaths_should_exist() throws IOException {
        Set<String> roots = new TreeSet<>();
        try (Stream<Path> top = Files.list(ROOT)) {
            top.map(p -> p.getFileName().toString()).filter(n -> !n.equals("target")).forEach(roots::add);
        }
        Pattern link = Pattern.compile("\\]\\(([^)\\s#]+)\\)");
        int checked = 0;
        for (Map.Entry<String, String> doc : docs().entrySet()) {
            Path base = ROOT.resolve(doc.getKey()).getParent();
            Matcher links = link.matcher(doc.getValue());
            while (links.find()) {
                if (!links.group(1).contains("://")) {
                    assertThat(base.resolve(links.group(1)).normalize()).as("%s links %s", doc.getKey(), links.group(1)).exists();
                    checked++;
                }
            }
            Matcher spans = BACKTICKED.matcher(doc.getValue());
            while (spans.find()) {
                String path = spans.group(1);
                if (path.matches("[A-Za-z0-9_.*/-]+") && path.contains("/") && roots.contains(path.substring(0, path.indexOf('/')))
                        && !path.contains("target/") && !path.contains("node_modules")) {
                    assertThat(exists(path)).as("%s names %s", doc.getKey(), path).isTrue();
                    checked++;
                }
            }
        }
        assertThat(checked).as("paths checked").isGreaterThanOrEqualTo(30);
    }

    // ---- what on-call searches for and looks at --------------------------------------------------------------

    /**
     * Every `--filter` the runbook and README give `sam logs` (or `--filter-pattern` aws logs) is in a line the code
     * logs, and where the sentence calls it a warning, in a line the code logs as one.
     */
    @Test
    void logSearches_should_findLinesTheCodeLogs() {
        List<String> messages = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        Set<String> levels = new TreeSet<>();
        Matcher call = Pattern.compile("\\b(?:LOG|log)\\.(trace|debug|info|warn|error)\\(\\s*((?:\"(?:[^\"\\\\]|\\\\.)*\"\\s*\\+\\s*)*\"(?:[^\"\\\\]|\\\\.)*\")")
                .matcher(sources("shared/src/main/java") + sources("functions/beacon/src/main/java") + sources("functions/reconciler/src/main/java"));
        while (call.find()) {
            levels.add(call.group(1).toUpperCase(Locale.ROOT));
            String message = call.group(2).replaceAll("\"\\s*\\+\\s*\"", "").replaceAll("^\"|\"$", "");
            messages.add(message);
            if (call.group(1).equals("warn")) {
                warnings.add(message);
            }
        }
        assertThat(messages).as("log lines found in the code").hasSizeGreaterThan(20);

        Pattern filter = Pattern.compile("--filter(?:-pattern)? (\"[^\"]+\"|[^\\s`]+)");
        int searches = 0;
        for (String doc : List.of("README.md", "docs/runbook.md")) {
            String text = read(doc).replace("\n  ", " ");
            Matcher m = filter.matcher(text);
            while (m.find()) {
                String term = m.group(1).replace("\"", "");
                String sentence = text.substring(Math.max(text.lastIndexOf(". ", m.start()), text.lastIndexOf("\n", m.start())) + 1, m.start());
                List<String> lines = sentence.contains("warning") ? warnings : messages;
                assertThat(levels.contains(term) || lines.stream().anyMatch(message -> message.contains(term)))
                        .as("%s: --filter %s matches a line the code logs%s", doc, m.group(1), lines == warnings ? " as a warning" : "").isTrue();
                searches++;
            }
        }
        assertThat(searches).as("log searches in the docs").isGreaterThanOrEqualTo(6);
    }

    /**
     * Alarm names in the docs are the template's alarms; the runbook's names (metrics, resources, parameters,
     * outputs) are ones the template, the code or AWS itself has; the stack outputs the docs use exist; and the
     * dashboard charts only metrics the code or the template writes, or AWS publishes.
     */
    @Test
    @SuppressWarnings("unchecked")
    void namesOnCallReads_should_beOnesTheTemplateOrTheCodeHas() throws IOException {
        Set<String> alarms = new TreeSet<>();
        STACK.resources().forEach((id, resource) -> {
            if ("AWS::CloudWatch::Alarm".equals(((Map<String, Object>) resource).get("Type"))) {
                alarms.add(id);
            }
        });
        for (Map.Entry<String, String> doc : docs().entrySet()) {
            Matcher alarm = Pattern.compile("\\b[A-Z][A-Za-z0-9]*Alarm\\b").matcher(doc.getValue());
            while (alarm.find()) {
                assertThat(alarms).as("%s names the alarm %s", doc.getKey(), alarm.group()).contains(alarm.group());
            }
            Matcher output = Pattern.compile("\\$\\(out (\\w+)\\)|output `(\\w+)`").matcher(doc.getValue());
            while (output.find()) {
                String name = output.group(1) != null ? output.group(1) : output.group(2);
                assertThat(STACK.outputs()).as("%s uses the stack output %s", doc.getKey(), name).containsKey(name);
            }
        }

        Set<String> known = new TreeSet<>(AWS_NAMES);
        collectNames(List.of(STACK.parameters(), STACK.resources(), STACK.outputs(), STACK.globals()), known);
        StackMetrics.written(STACK).forEach(metric -> known.add(metric.name()));
        Matcher word = Pattern.compile("\\b[A-Z][A-Za-z0-9]+\\b").matcher(sources("shared/src/main/java") + sources("functions/beacon/src/main/java")
                + sources("functions/reconciler/src/main/java"));
        while (word.find()) {
            known.add(word.group());
        }
        // The tests the runbook points at (a drill on every build): their class names only, not every word in them.
        Matcher testClass = Pattern.compile("\\b(?:class|record|interface|enum) ([A-Z][A-Za-z0-9]+)").matcher(sources("local/src/test/java")
                + sources("functions/reconciler/src/test/java") + sources("functions/beacon/src/test/java"));
        while (testClass.find()) {
            known.add(testClass.group(1));
        }
        // A drill's put-metric-data must write a metric the stack writes, with its dimension (and so the alarm's).
        Matcher drill = Pattern.compile("--metric-name\\s+(\\w+)\\s+--dimensions\\s+service=(\\w+)").matcher(read("docs/runbook.md"));
        int drills = 0;
        while (drill.find()) {
            assertThat(StackMetrics.written(STACK)).as("the runbook's drill writes %s for service %s", drill.group(1), drill.group(2))
                    .contains(new StackMetrics.Metric(drill.group(1), drill.group(2)));
            drills++;
        }
        assertThat(drills).as("the runbook's metric drills").isGreaterThanOrEqualTo(2);
        Matcher named = BACKTICKED.matcher(read("docs/runbook.md"));
        int names = 0;
        while (named.find()) {
            if (TWO_HUMPS.matcher(named.group(1)).matches()) {
                assertThat(known).as("docs/runbook.md names `%s`: no such metric, resource, parameter, output or code name", named.group(1))
                        .contains(named.group(1));
                names++;
            }
        }
        assertThat(names).as("names in the runbook").isGreaterThanOrEqualTo(30);

        Set<StackMetrics.Metric> written = StackMetrics.written(STACK);
        String body = ((String) STACK.properties("Dashboard").get("DashboardBody")).replaceAll("\\$\\{[^}]+}", "sub");
        for (List<String> metric : TemplateTest.dashboardMetrics(body)) {
            if (metric.getFirst().equals(StackMetrics.NAMESPACE)) {
                String service = metric.size() > 3 && metric.get(2).equals("service") ? metric.get(3) : null;
                assertThat(written).as("the dashboard charts %s", metric).contains(new StackMetrics.Metric(metric.get(1), service));
            } else {
                assertThat(metric.getFirst()).startsWith("AWS/");
                assertThat(known).as("the dashboard charts %s", metric).contains(metric.get(1));
            }
        }
    }

    /** README's list of stack outputs is the template's. */
    @Test
    void readmeOutputs_should_beTheTemplatesOutputs() {
        Matcher list = Pattern.compile("Outputs: ([^.]+)\\.").matcher(readme());
        assertThat(list.find()).isTrue();
        Set<String> listed = new TreeSet<>();
        Matcher name = BACKTICKED.matcher(list.group(1).replaceAll("\\([^)]*\\)", ""));
        while (name.find()) {
            listed.add(name.group(1));
        }
        assertThat(listed).isEqualTo(new TreeSet<>(STACK.outputs().keySet()));
    }

    /** README's per-function grants are the actions the template grants each function. */
    @Test
    @SuppressWarnings("unchecked")
    void readmeGrants_should_beTheTemplatesPolicies() {
        for (String function : List.of("beacon", "reconciler")) {
            Matcher line = Pattern.compile("- \\*\\*" + function + "\\*\\*: (.*?);\\n(?:- |\\n)", Pattern.DOTALL).matcher(readme());
            assertThat(line.find()).as("README's grants of the %s", function).isTrue();
            String text = line.group(1);
            Set<String> documented = new TreeSet<>();
            Matcher action = BACKTICKED.matcher(text);
            while (action.find()) {
                if (action.group(1).matches("[A-Z][A-Za-z]+")) {
                    documented.add(action.group(1));
                }
            }
            Set<String> granted = new TreeSet<>();
            String id = function.equals("beacon") ? "BeaconFunction" : "ReconcilerFunction";
            for (Object policy : (List<Object>) STACK.properties(id).get("Policies")) {
                Map<String, Object> p = (Map<String, Object>) policy;
                if (p.containsKey("EventBridgePutEventsPolicy")) {
                    granted.add("PutEvents");
                }
                for (Map<String, Object> statement : (List<Map<String, Object>>) p.getOrDefault("Statement", List.of())) {
                    Object actions = statement.get("Action");
                    for (Object a : actions instanceof List<?> list ? list : List.of(actions)) {
                        granted.add(((String) a).substring(((String) a).indexOf(':') + 1));
                    }
                }
            }
            assertThat(documented).as("README's grants of the %s", function).isEqualTo(granted);
        }
    }

    // ---- figures derived from the code ----------------------------------------------------------------------

    /**
     * The numbers the docs derive from the code: the close's worst cases, the backoff of MaxAttempts, the pacer's
     * burst, the storm's duration, the bench's length, the count of alarms and custom metrics.
     */
    @Test
    void figures_should_beWhatTheCodeGives() {
        ClientPolicies beacon = ClientPolicies.BEACON;
        double dynamo = seconds(beacon.dynamoDb());
        double connect = seconds(beacon.connect());
        double events = seconds(beacon.eventBridge());
        double usual = beacon.worstCaseClose().toMillis() / 1000.0;
        // The session-id key's GetItem; DescribeUser; ListAgentStatuses and PutUserStatus again; PutEvents twice
        // more (EventBridgePublisher pauses 50 ms x the try before each) and the outbox's PutItem.
        double detours = dynamo + connect + 2 * connect + 2 * events + 0.15 + dynamo;
        says("docs/architecture.md", "at its limit, is " + format(usual) + " s:", "the close's usual worst case");
        says("docs/architecture.md", "(" + format(2 * events + 0.15 + dynamo) + " s with the pauses)", "refused events and the outbox");
        says("docs/architecture.md", "would take " + format(usual + detours) + " s, past the timeout", "the close with every detour");
        says("template.yaml", "(ClientPolicies.BEACON): " + format(usual) + " s at worst", "the beacon's timeout comment");

        Backoff backoff = Backoff.DEFAULT;
        long ceilings = 0;
        for (int attempt = 1; attempt < Integer.parseInt(STACK.parameterDefault("MaxAttempts")); attempt++) {
            ceilings += Math.min(backoff.cap().toMillis(), backoff.base().toMillis() << (attempt - 1));
        }
        says("README.md", String.format(Locale.ROOT, "%d to %d minutes of backoff (%.1f on average)",
                ceilings / 2 / 60_000, ceilings / 60_000, ceilings * 0.75 / 60_000), "MaxAttempts' backoff");

        double rate = Double.parseDouble(STACK.parameterDefault("ConnectRatePerSecond"));
        says("README.md", ConnectPacer.burstFor(rate) + " at " + format(rate) + "/s", "the pacer's burst");
        says("docs/architecture.md", ConnectPacer.burstFor(rate) + " at " + format(rate) + "/s, " + ConnectPacer.burstFor(2) + " at 2/s", "the pacer's burst");
        double pacing = (1000 - ConnectPacer.burstFor(rate)) / rate;
        Duration work = STACK.timeout("ReconcilerFunction").minus(backstop.reconciler.ReconcilerHandler.SAFETY_MARGIN);
        String storm = (int) Math.floor(pacing * 1.205 / 60) + " to " + (int) Math.ceil(pacing * 60 / work.toSeconds() / 60) + " minutes";
        says("README.md", "takes " + storm, "a storm of 1,000 at the default rate, through the schedule");
        says("docs/runbook.md", "1,000 agents take " + storm, "a storm of 1,000 at the default rate, through the schedule");
        says("docs/benchmarks.md", ": " + storm + ".", "a storm of 1,000 at the default rate, through the schedule");

        Matcher header = Pattern.compile("every benchmark \\(about (\\d+) minutes on 2 cores").matcher(read("local/bin/bench"));
        assertThat(header.find()).isTrue();
        says("README.md", "`local/bin/bench` (all, about " + header.group(1) + " minutes on 2 cores)", "local/bin/bench's own header");

        long alarms = STACK.resources().values().stream().filter(r -> "AWS::CloudWatch::Alarm".equals(((Map<?, ?>) r).get("Type"))).count();
        says("README.md", NUMBERS.get((int) alarms) + " alarms (`docs/runbook.md` has one entry each)", "the template's alarms");
        says("docs/benchmarks.md", "CloudWatch: " + alarms + " alarms", "the template's alarms");
        says("docs/benchmarks.md", "(" + StackMetrics.written(STACK).size() + " custom metrics)", "the metrics the stack writes");
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    static final List<String> NUMBERS = List.of("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen");

    static String read(String relative) {
        try {
            return Files.readString(ROOT.resolve(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code file} says {@code expected} (lines joined as Markdown renders them); the failure names what it should say. */
    static void says(String file, String expected, String what) {
        String text = read(file).replaceAll("\\n\\s*(?:#\\s+)?", " ");
        assertThat(text.contains(expected)).as("%s should say \"%s\" (%s)", file, expected, what).isTrue();
    }

    static String readme() {
        return read("README.md");
    }

    /** README.md and every Markdown file of docs/, by path. */
    static Map<String, String> docs() {
        Map<String, String> docs = new LinkedHashMap<>();
        docs.put("README.md", readme());
        try (Stream<Path> files = Files.list(ROOT.resolve("docs"))) {
            files.filter(f -> f.toString().endsWith(".md")).sorted().forEach(f -> docs.put("docs/" + f.getFileName(), read("docs/" + f.getFileName())));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return docs;
    }

    /** The inline code spans and the fenced code blocks' lines of a Markdown text. */
    static List<String> code(String markdown) {
        List<String> snippets = new ArrayList<>();
        Matcher fence = Pattern.compile("(?s)```[a-z]*\\n(.*?)```").matcher(markdown);
        while (fence.find()) {
            snippets.addAll(fence.group(1).lines().map(l -> l.replaceFirst("#.*", "")).toList());
        }
        Matcher span = BACKTICKED.matcher(markdown.replaceAll("(?s)```.*?```", ""));
        while (span.find()) {
            snippets.add(span.group(1));
        }
        return snippets;
    }

    /** The first Markdown table after {@code anchor}: each row's first cell to its second. */
    static Map<String, String> table(String markdown, String anchor) {
        int from = markdown.indexOf(anchor);
        assertThat(from).as("README has %s", anchor).isNotNegative();
        Map<String, String> rows = new LinkedHashMap<>();
        boolean inTable = false;
        for (String line : markdown.substring(from).lines().toList()) {
            if (!line.startsWith("|")) {
                if (inTable) {
                    break;
                }
                continue;
            }
            inTable = true;
            String[] cells = line.split(" \\| ", 3);
            if (cells.length < 2 || line.startsWith("|---") || rows.isEmpty() && !cells[0].contains("`")) {
                continue; // the header row and its rule
            }
            rows.put(cells[0].substring(2), cells[1].replaceFirst(" \\|$", ""));
        }
        return rows;
    }

    /** README's Configuration table, one entry per variable (a row naming several splits its defaults by ", "). */
    static Map<String, String> configurationTable() {
        Map<String, String> byVariable = new LinkedHashMap<>();
        table(readme(), "## Configuration").forEach((variables, defaults) -> {
            List<String> names = new ArrayList<>();
            Matcher name = BACKTICKED.matcher(variables);
            while (name.find()) {
                names.add(name.group(1));
            }
            // "30, `restore`" for two variables; one value for all ("from the stack") when the cell lists one.
            String[] values = names.size() == 1 || !defaults.contains(", ") ? java.util.Collections.nCopies(names.size(), defaults).toArray(String[]::new)
                    : defaults.split(", ");
            assertThat(values).as("README: a default for each of %s", names).hasSize(names.size());
            for (int i = 0; i < names.size(); i++) {
                byVariable.put(names.get(i), values[i].trim());
            }
        });
        return byVariable;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> environment() {
        Map<String, Object> function = (Map<String, Object>) STACK.globals().get("Function");
        return (Map<String, Object>) ((Map<String, Object>) function.get("Environment")).get("Variables");
    }

    @SuppressWarnings("unchecked")
    static boolean hasDefault(String parameter) {
        return ((Map<String, Object>) STACK.parameters().get(parameter)).containsKey("Default");
    }

    static boolean requires(String variable) {
        Map<String, String> without = new HashMap<>(REQUIRED);
        without.remove(variable);
        try {
            BackstopConfig.fromEnvironment(without);
            return false;
        } catch (IllegalStateException e) {
            return e.getMessage().contains(variable + " is required");
        }
    }

    static Map<String, String> with(String variable, String value) {
        Map<String, String> environment = new HashMap<>(REQUIRED);
        environment.put(variable, value);
        return environment;
    }

    /** Whether a path the docs name exists: "..." stands for any folders, "*" for any name, a class for its source. */
    static boolean exists(String path) throws IOException {
        if (!path.contains("*") && !path.contains("...")) {
            return Files.exists(ROOT.resolve(path));
        }
        String glob = path.replace("...", "**");
        PathMatcher source = FileSystems.getDefault().getPathMatcher("glob:" + glob);
        PathMatcher java = FileSystems.getDefault().getPathMatcher("glob:" + glob + ".java");
        try (Stream<Path> files = Files.walk(ROOT.resolve(path.substring(0, path.indexOf('/'))))) {
            return files.map(ROOT::relativize).filter(p -> !p.toString().contains("/target/") && !p.toString().contains("node_modules"))
                    .anyMatch(p -> source.matches(p) || java.matches(p));
        }
    }

    /** The text of every .java file under {@code relative}. */
    static String sources(String relative) {
        StringBuilder text = new StringBuilder();
        try (Stream<Path> files = Files.walk(ROOT.resolve(relative))) {
            files.filter(f -> f.toString().endsWith(".java")).sorted().forEach(f -> {
                try {
                    text.append(Files.readString(f)).append('\n');
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }

    /** Every key and every word of every value in a parsed template, into {@code names}. */
    @SuppressWarnings("unchecked")
    static void collectNames(Object node, Set<String> names) {
        if (node instanceof Map<?, ?> map) {
            map.forEach((k, v) -> {
                names.add(String.valueOf(k));
                collectNames(v, names);
            });
        } else if (node instanceof List<?> list) {
            list.forEach(item -> collectNames(item, names));
        } else if (node != null) {
            Matcher word = Pattern.compile("[A-Za-z][A-Za-z0-9]+").matcher(String.valueOf(node));
            while (word.find()) {
                names.add(word.group());
            }
        }
    }

    static double seconds(CallPolicy policy) {
        return policy.apiCallTimeout().toMillis() / 1000.0;
    }

    /** 19 as "19", 7.65 as "7.65", 1.5 as "1.5". */
    static String format(double value) {
        return new java.math.BigDecimal(Double.toString(value)).setScale(2, java.math.RoundingMode.HALF_UP).stripTrailingZeros().toPlainString();
    }
}
