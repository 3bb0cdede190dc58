package backstop.core.http;

import backstop.core.json.Json;

import java.util.Map;

/** An HTTP response: status, headers and a JSON (or empty) body. */
public record HttpResponse(int status, Map<String, String> headers, String body) {
    private static final Map<String, String> JSON_HEADERS = Map.of("Content-Type", "application/json",
            "Cache-Control", "no-store");

    public static HttpResponse json(int status, Object body) {
        return new HttpResponse(status, JSON_HEADERS, Json.write(body));
    }

    public static HttpResponse empty(int status) {
        return new HttpResponse(status, Map.of("Cache-Control", "no-store"), "");
    }

    public static HttpResponse error(ApiError error) {
        Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("error", error.code());
        body.put("message", error.getMessage());
        return json(error.status(), body);
    }
}
