package backstop.core.http;

import java.util.Map;
import java.util.Optional;

/**
 * An HTTP API request reduced to what the routes need.
 *
 * @param route the API Gateway route key, e.g. {@code POST /sessions/{sessionId}/close}
 * @param headers header names in lower case
 */
public record HttpRequest(String route, Map<String, String> pathParameters, Map<String, String> headers, byte[] body) {

    public Optional<String> header(String lowerCaseName) {
        return Optional.ofNullable(headers.get(lowerCaseName));
    }
}
