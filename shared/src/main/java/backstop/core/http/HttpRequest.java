package backstop.core.http;

import java.util.Map;
import java.util.Optional;

/**
 * An HTTP API request reduced to what the routes need.
 *
 * @param route the API Gateway route key, e.g. {@code POST /sessions/{sessionId}/close}
 * @param headers header names in lower case
 * @param claims the claims of the JWT API Gateway's authorizer validated for this route (empty on routes without one)
 */
public record HttpRequest(String route, Map<String, String> pathParameters, Map<String, String> headers, byte[] body,
                          Map<String, String> claims) {

    public HttpRequest(String route, Map<String, String> pathParameters, Map<String, String> headers, byte[] body) {
        this(route, pathParameters, headers, body, Map.of());
    }

    public Optional<String> header(String lowerCaseName) {
        return Optional.ofNullable(headers.get(lowerCaseName));
    }
}
