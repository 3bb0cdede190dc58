package backstop.local.aws;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.AbstractConstruct;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndex;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.Projection;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Creates the table and the event bus from template.yaml's own definitions, so the local stack and the tests
 * cannot drift from what ops deploy. CloudFormation's short tags ({@code !Ref}, {@code !Sub}, ...) are read as
 * plain values: only literal table properties matter here.
 */
public final class TemplateResources {
    private final Map<String, Object> resources;
    private final Map<String, Object> globals;
    private final Map<String, Object> parameters;
    private final Map<String, Object> mappings;
    private final Map<String, Object> outputs;

    private TemplateResources(Map<String, Object> resources, Map<String, Object> globals, Map<String, Object> parameters,
                              Map<String, Object> mappings, Map<String, Object> outputs) {
        this.resources = resources;
        this.globals = globals;
        this.parameters = parameters;
        this.mappings = mappings;
        this.outputs = outputs;
    }

    /** An HTTP API route's throttle: a token bucket of {@code rate} requests a second, {@code burst} deep. */
    public record RouteThrottle(double rate, int burst) {
    }

    /**
     * The HTTP API's DefaultRouteSettings throttle with the parameters at their defaults (a value may be a literal or
     * a {@code !FindInMap [Map, !Ref Parameter, Key]}).
     */
    @SuppressWarnings("unchecked")
    public RouteThrottle routeThrottle(String apiId) {
        Map<String, Object> settings = (Map<String, Object>) properties(apiId).get("DefaultRouteSettings");
        return new RouteThrottle(resolveNumber(settings.get("ThrottlingRateLimit")).doubleValue(),
                resolveNumber(settings.get("ThrottlingBurstLimit")).intValue());
    }

    /**
     * As {@link #routeThrottle(String)} with one parameter set (e.g. ExpectedAgents 20000): what the template
     * deploys at that size.
     */
    @SuppressWarnings("unchecked")
    public RouteThrottle routeThrottle(String apiId, String parameter, String value) {
        Map<String, Object> settings = (Map<String, Object>) properties(apiId).get("DefaultRouteSettings");
        java.util.function.Function<Object, Number> at = setting -> setting instanceof List<?> findInMap && findInMap.size() == 3
                && parameter.equals(findInMap.get(1))
                ? resolveNumber(((Map<String, Object>) ((Map<String, Object>) mappings.get(String.valueOf(findInMap.get(0)))).get(value))
                        .get(String.valueOf(findInMap.get(2))))
                : resolveNumber(setting);
        return new RouteThrottle(at.apply(settings.get("ThrottlingRateLimit")).doubleValue(),
                at.apply(settings.get("ThrottlingBurstLimit")).intValue());
    }

    /** A number the template writes as a literal or a {@code !FindInMap [Map, !Ref Parameter, Key]}, at the defaults. */
    public Number numberAtDefaults(Object value) {
        return resolveNumber(value);
    }

    @SuppressWarnings("unchecked")
    private Number resolveNumber(Object value) {
        if (value instanceof Number number) {
            return number;
        }
        if (value instanceof List<?> findInMap && findInMap.size() == 3) {
            String key = findInMap.get(1) instanceof String parameter && parameters.containsKey(parameter)
                    ? parameterDefault(parameter) : String.valueOf(findInMap.get(1));
            Map<String, Object> map = (Map<String, Object>) mappings.get(String.valueOf(findInMap.get(0)));
            Map<String, Object> row = (Map<String, Object>) map.get(key);
            return resolveNumber(row.get(String.valueOf(findInMap.get(2))));
        }
        return Double.parseDouble(String.valueOf(value));
    }

    @SuppressWarnings("unchecked")
    public static TemplateResources load(Path template) {
        try {
            Map<String, Object> root = new Yaml(new CloudFormationConstructor()).load(Files.readString(template));
            return new TemplateResources((Map<String, Object>) root.get("Resources"),
                    (Map<String, Object>) root.getOrDefault("Globals", Map.of()),
                    (Map<String, Object>) root.getOrDefault("Parameters", Map.of()),
                    (Map<String, Object>) root.getOrDefault("Mappings", Map.of()),
                    (Map<String, Object>) root.getOrDefault("Outputs", Map.of()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + template, e);
        }
    }

    /** template.yaml at the repository root, found from the working directory or one of its parents. */
    public static Path findTemplate() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            Path candidate = dir.resolve("template.yaml");
            if (Files.exists(candidate) && Files.exists(dir.resolve("functions"))) {
                return candidate;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("template.yaml not found above " + Path.of("").toAbsolutePath());
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> properties(String logicalId) {
        Map<String, Object> resource = (Map<String, Object>) resources.get(logicalId);
        if (resource == null) {
            throw new IllegalArgumentException("template.yaml has no resource " + logicalId);
        }
        return (Map<String, Object>) resource.getOrDefault("Properties", Map.of());
    }

    public Map<String, Object> resources() {
        return resources;
    }

    /** A function's Timeout: its own, else the Globals' one. */
    @SuppressWarnings("unchecked")
    public java.time.Duration timeout(String functionId) {
        Object own = properties(functionId).get("Timeout");
        Object global = ((Map<String, Object>) globals.getOrDefault("Function", Map.of())).get("Timeout");
        return java.time.Duration.ofSeconds(((Number) (own != null ? own : global)).longValue());
    }

    /** A function's MemorySize in MB: its own, else the Globals' one. */
    @SuppressWarnings("unchecked")
    public int memoryMb(String functionId) {
        Object own = properties(functionId).get("MemorySize");
        Object global = ((Map<String, Object>) globals.getOrDefault("Function", Map.of())).get("MemorySize");
        return ((Number) (own != null ? own : global)).intValue();
    }

    /** The Parameters section in template order (the order `sam deploy --guided` asks them in). */
    public Map<String, Object> parameters() {
        return parameters;
    }

    /** The Outputs section, by output name. */
    public Map<String, Object> outputs() {
        return outputs;
    }

    public boolean hasParameter(String name) {
        return parameters.containsKey(name);
    }

    /** A parameter's Default, as text (what {@code sam deploy} uses when ops accept it). */
    @SuppressWarnings("unchecked")
    public String parameterDefault(String name) {
        Map<String, Object> parameter = (Map<String, Object>) parameters.get(name);
        if (parameter == null || !parameter.containsKey("Default")) {
            throw new IllegalArgumentException("template.yaml has no parameter " + name + " with a Default");
        }
        return String.valueOf(parameter.get("Default"));
    }

    /** A parameter's AllowedPattern (CloudFormation matches it against the whole value). */
    @SuppressWarnings("unchecked")
    public java.util.regex.Pattern parameterPattern(String name) {
        Map<String, Object> parameter = (Map<String, Object>) parameters.get(name);
        if (parameter == null || !parameter.containsKey("AllowedPattern")) {
            throw new IllegalArgumentException("template.yaml has no parameter " + name + " with an AllowedPattern");
        }
        return java.util.regex.Pattern.compile(String.valueOf(parameter.get("AllowedPattern")));
    }

    /** The period of a function's ScheduleV2 event, from its {@code rate(N minute[s])} expression. */
    @SuppressWarnings("unchecked")
    public java.time.Duration scheduleRate(String functionId) {
        for (Object event : ((Map<String, Object>) properties(functionId).get("Events")).values()) {
            Map<String, Object> e = (Map<String, Object>) event;
            if ("ScheduleV2".equals(e.get("Type"))) {
                String expression = (String) ((Map<String, Object>) e.get("Properties")).get("ScheduleExpression");
                java.util.regex.Matcher rate = java.util.regex.Pattern.compile("rate\\((\\d+) minutes?\\)").matcher(expression);
                if (!rate.matches()) {
                    throw new IllegalStateException("not a rate in minutes: " + expression);
                }
                return java.time.Duration.ofMinutes(Long.parseLong(rate.group(1)));
            }
        }
        throw new IllegalArgumentException(functionId + " has no ScheduleV2 event");
    }

    /** The template's Globals section. */
    public Map<String, Object> globals() {
        return globals;
    }

    /** Creates the SessionsTable as the template defines it (keys, sparse indexes, TTL) under {@code tableName}. */
    @SuppressWarnings("unchecked")
    public void createSessionsTable(DynamoDbClient dynamoDb, String tableName) {
        Map<String, Object> table = properties("SessionsTable");
        List<AttributeDefinition> attributes = ((List<Map<String, Object>>) table.get("AttributeDefinitions")).stream()
                .map(a -> AttributeDefinition.builder().attributeName((String) a.get("AttributeName"))
                        .attributeType((String) a.get("AttributeType")).build()).toList();
        List<GlobalSecondaryIndex> indexes = ((List<Map<String, Object>>) table.getOrDefault("GlobalSecondaryIndexes", List.of()))
                .stream().map(i -> GlobalSecondaryIndex.builder()
                        .indexName((String) i.get("IndexName"))
                        .keySchema(keySchema((List<Map<String, Object>>) i.get("KeySchema")))
                        .projection(Projection.builder()
                                .projectionType((String) ((Map<String, Object>) i.get("Projection")).get("ProjectionType")).build())
                        .build()).toList();
        dynamoDb.createTable(r -> r.tableName(tableName)
                .billingMode(BillingMode.fromValue((String) table.get("BillingMode")))
                .attributeDefinitions(attributes)
                .keySchema(keySchema((List<Map<String, Object>>) table.get("KeySchema")))
                .globalSecondaryIndexes(indexes.isEmpty() ? null : indexes));
        dynamoDb.waiter().waitUntilTableExists(r -> r.tableName(tableName));
        Map<String, Object> ttl = (Map<String, Object>) table.get("TimeToLiveSpecification");
        if (ttl != null && Boolean.TRUE.equals(ttl.get("Enabled"))) {
            dynamoDb.updateTimeToLive(r -> r.tableName(tableName).timeToLiveSpecification(
                    s -> s.attributeName((String) ttl.get("AttributeName")).enabled(true)));
        }
    }

    /** Creates the EventBus resource of the template under {@code busName}. */
    public void createEventBus(EventBridgeClient eventBridge, String busName) {
        properties("EventBus"); // fails loudly if the template stops defining it
        eventBridge.createEventBus(r -> r.name(busName));
    }

    private static List<KeySchemaElement> keySchema(List<Map<String, Object>> schema) {
        return schema.stream().map(k -> KeySchemaElement.builder().attributeName((String) k.get("AttributeName"))
                .keyType((String) k.get("KeyType")).build()).toList();
    }

    /** Reads {@code !Ref x} as "x", {@code !Join [...]} as its list, and so on: the tag is dropped. */
    private static final class CloudFormationConstructor extends SafeConstructor {
        CloudFormationConstructor() {
            super(new LoaderOptions());
            AbstractConstruct untag = new AbstractConstruct() {
                @Override
                public Object construct(Node node) {
                    return switch (node) {
                        case ScalarNode scalar -> constructScalar(scalar);
                        case SequenceNode sequence -> constructSequence(sequence);
                        case MappingNode mapping -> constructMapping(mapping);
                        default -> null;
                    };
                }
            };
            for (String function : List.of("Ref", "Sub", "GetAtt", "Join", "If", "Equals", "Not", "And", "Or",
                    "Select", "Split", "FindInMap", "ImportValue", "Base64", "Cidr", "GetAZs", "Condition")) {
                this.yamlConstructors.put(new Tag("!" + function), untag);
            }
        }
    }
}
