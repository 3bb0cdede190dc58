package backstop.local.template;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What CloudFormation makes of a value of the translated template for given parameter and pseudo-parameter
 * values: Ref, Fn::Sub (string form), Fn::Join, Fn::Select, Fn::Split, Fn::If, Fn::Equals, Fn::Not and Condition,
 * the functions template.yaml uses where a value's length or presence matters. Anything else fails the test.
 */
final class Intrinsics {
    /** What {@code !Ref AWS::NoValue} leaves: the property is removed. */
    static final Object NO_VALUE = new Object() {
        @Override
        public String toString() {
            return "AWS::NoValue";
        }
    };
    private static final Pattern SUB_VARIABLE = Pattern.compile("\\$\\{([^}!]+)}");

    private final Map<String, String> refs;
    private final JsonNode conditions;
    private final JsonNode mappings;

    /** {@code refs}: parameter and pseudo-parameter values; {@code conditions}: the template's Conditions section. */
    Intrinsics(Map<String, String> refs, JsonNode conditions) {
        this(refs, conditions, com.fasterxml.jackson.databind.node.MissingNode.getInstance());
    }

    /** As above, with the template's Mappings for Fn::FindInMap. */
    Intrinsics(Map<String, String> refs, JsonNode conditions, JsonNode mappings) {
        this.refs = refs;
        this.conditions = conditions;
        this.mappings = mappings;
    }

    Object evaluate(JsonNode node) {
        if (node.isTextual() || node.isNumber() || node.isBoolean()) {
            return node.asText();
        }
        if (node.isArray()) {
            List<Object> items = new ArrayList<>();
            node.forEach(item -> items.add(evaluate(item)));
            return items;
        }
        if (node.size() != 1) {
            Map<String, Object> map = new LinkedHashMap<>();
            node.properties().forEach(e -> map.put(e.getKey(), evaluate(e.getValue())));
            return map;
        }
        String function = node.fieldNames().next();
        JsonNode args = node.get(function);
        return switch (function) {
            case "Ref" -> ref(args.asText());
            case "Fn::Sub" -> sub(args.asText());
            case "Fn::Join" -> String.join(args.get(0).asText(), strings(evaluate(args.get(1))));
            case "Fn::Select" -> ((List<?>) evaluate(args.get(1))).get(Integer.parseInt((String) evaluate(args.get(0))));
            case "Fn::Split" -> List.of(((String) evaluate(args.get(1))).split(Pattern.quote(args.get(0).asText()), -1));
            case "Fn::FindInMap" -> evaluate(mappings.path((String) evaluate(args.get(0))).path((String) evaluate(args.get(1)))
                    .path((String) evaluate(args.get(2))));
            case "Fn::If" -> condition(args.get(0).asText()) ? evaluate(args.get(1)) : evaluate(args.get(2));
            case "Fn::Equals" -> String.valueOf(evaluate(args.get(0)).equals(evaluate(args.get(1))));
            case "Fn::Not" -> String.valueOf(!Boolean.parseBoolean((String) evaluate(args.get(0))));
            case "Condition" -> String.valueOf(condition(args.asText()));
            default -> {
                if (function.startsWith("Fn::")) {
                    throw new IllegalArgumentException("not evaluated here: " + function);
                }
                yield Map.of(function, evaluate(args));
            }
        };
    }

    boolean condition(String name) {
        JsonNode definition = conditions.get(name);
        if (definition == null) {
            throw new IllegalArgumentException("no condition " + name);
        }
        return Boolean.parseBoolean((String) evaluate(definition));
    }

    private Object ref(String name) {
        if (name.equals("AWS::NoValue")) {
            return NO_VALUE;
        }
        String value = refs.get(name);
        if (value == null) {
            throw new IllegalArgumentException("no value given for Ref " + name);
        }
        return value;
    }

    private String sub(String template) {
        Matcher variable = SUB_VARIABLE.matcher(template);
        StringBuilder out = new StringBuilder();
        while (variable.find()) {
            variable.appendReplacement(out, Matcher.quoteReplacement((String) ref(variable.group(1))));
        }
        return variable.appendTail(out).toString();
    }

    private static List<String> strings(Object list) {
        return ((List<?>) list).stream().map(String.class::cast).toList();
    }
}
