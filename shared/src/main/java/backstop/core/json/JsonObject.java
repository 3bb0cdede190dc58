package backstop.core.json;

import java.math.BigDecimal;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed JSON object with strict typed getters: a member of the wrong type is an {@link JsonException}
 * (a 400), never a silent coercion. Unknown members are simply never asked for.
 */
public record JsonObject(Map<String, Object> members) {

    public Optional<String> string(String name, int maxLength) {
        Object value = members.get(name);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof String text)) {
            throw new JsonException(name + " must be a string");
        }
        if (text.length() > maxLength) {
            throw new JsonException(name + " must be at most " + maxLength + " characters");
        }
        return Optional.of(text);
    }

    public String requiredString(String name, int maxLength) {
        return string(name, maxLength).orElseThrow(() -> new JsonException(name + " is required"));
    }

    public Optional<JsonObject> object(String name) {
        Object value = members.get(name);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof JsonObject object)) {
            throw new JsonException(name + " must be an object");
        }
        return Optional.of(object);
    }

    public Optional<BigDecimal> number(String name) {
        Object value = members.get(name);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof BigDecimal number)) {
            throw new JsonException(name + " must be a number");
        }
        return Optional.of(number);
    }
}
