package backstop.core.json;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonTest {
    static JsonObject parse(String text) {
        return Json.parseObject(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void parseObject_should_readTypedMembers_when_bodyIsValid() {
        JsonObject body = parse("{\"token\":\"abc\",\"status\":{\"name\":\"Break\"},\"n\":1.5,\"extra\":[1,2]}");

        assertThat(body.requiredString("token", 10)).isEqualTo("abc");
        assertThat(body.object("status").orElseThrow().requiredString("name", 10)).isEqualTo("Break");
        assertThat(body.number("n").orElseThrow()).isEqualByComparingTo("1.5");
        assertThat(body.string("missing", 10)).isEmpty();
    }

    @Test
    void parseObject_should_refuse_when_bodyIsNotOneObject() {
        for (String bad : List.of("", "[]", "\"x\"", "{\"a\":1} {}", "{\"a\":", "{\"a\":1,\"a\":2}", "nul", "{'a':1}")) {
            assertThatThrownBy(() -> parse(bad)).as(bad).isInstanceOf(JsonException.class);
        }
    }

    @Test
    void parseObject_should_refuse_when_nestedTooDeeply() {
        String deep = "{\"a\":".repeat(Json.MAX_DEPTH + 1) + "1" + "}".repeat(Json.MAX_DEPTH + 1);

        assertThatThrownBy(() -> parse(deep)).isInstanceOf(JsonException.class).hasMessageContaining("nested too deeply");
    }

    @Test
    void parseObject_should_refuse_when_utf8IsInvalid() {
        byte[] body = {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};

        assertThatThrownBy(() -> Json.parseObject(body)).isInstanceOf(JsonException.class);
    }

    @Test
    void typedGetters_should_refuse_when_typeIsWrong() {
        JsonObject body = parse("{\"token\":42,\"status\":\"Break\",\"long\":\"" + "x".repeat(20) + "\"}");

        assertThatThrownBy(() -> body.requiredString("token", 10)).hasMessage("token must be a string");
        assertThatThrownBy(() -> body.object("status")).hasMessage("status must be an object");
        assertThatThrownBy(() -> body.string("long", 10)).hasMessage("long must be at most 10 characters");
        assertThatThrownBy(() -> body.requiredString("absent", 10)).hasMessage("absent is required");
    }

    @Test
    void write_should_produceCompactJson_when_givenMapsListsAndScalars() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("s", "a\"b");
        value.put("n", 3);
        value.put("b", true);
        value.put("none", null);
        value.put("list", List.of(1L, "x"));

        assertThat(Json.write(value)).isEqualTo("{\"s\":\"a\\\"b\",\"n\":3,\"b\":true,\"none\":null,\"list\":[1,\"x\"]}");
    }
}
