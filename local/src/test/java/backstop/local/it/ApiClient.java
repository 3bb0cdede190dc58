package backstop.local.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

/**
 * Real HTTP to the local front, as a browser's fetch and sendBeacon would send it (text/plain JSON). A register
 * carries the agent's own bearer token, as the signed-in page's does (a body naming no agent: demo-ada's token).
 */
final class ApiClient {
    static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();
    private final URI base;
    private final java.util.function.Function<String, String> tokenForUser;

    ApiClient(backstop.local.LocalStack stack) {
        this.base = stack.frontUrl();
        this.tokenForUser = backstop.local.identity.Tokens.forAgentsOf(stack);
    }

    /** @param wwwAuthenticate the authorizer's reason for a 401 ("" otherwise) */
    record Response(int status, JsonNode body, String wwwAuthenticate) {
        String text(String field) {
            return body.path(field).asText();
        }
    }

    record Session(String id, String token) {
    }

    Response post(String path, String contentType, String body, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        headers.forEach(request::header);
        if (path.equals("/sessions") && headers.keySet().stream().noneMatch("authorization"::equalsIgnoreCase)) {
            request.header("Authorization", backstop.local.identity.Tokens.bearerFor(tokenForUser, body));
        }
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode json = response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
            return new Response(response.statusCode(), json, response.headers().firstValue("www-authenticate").orElse(""));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    Response post(String path, Object body) {
        return post(path, "text/plain;charset=UTF-8", write(body), Map.of());
    }

    Response register(String agentArn) {
        return post("/sessions", Map.of("agentArn", agentArn));
    }

    Session open(String agentArn) {
        Response response = register(agentArn);
        if (response.status() != 201) {
            throw new AssertionError("register failed: " + response);
        }
        return new Session(response.text("sessionId"), response.text("token"));
    }

    Response heartbeat(Session session) {
        return post("/sessions/" + session.id() + "/heartbeat", Map.of("token", session.token()));
    }

    Response close(Session session) {
        ObjectNode body = JSON.createObjectNode().put("token", session.token()).put("reason", "pagehide");
        body.putObject("status").put("name", "Available");
        return post("/sessions/" + session.id() + "/close", "text/plain;charset=UTF-8", body.toString(), Map.of());
    }

    static String write(Object body) {
        try {
            return JSON.writeValueAsString(body);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
