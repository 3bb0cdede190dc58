package backstop.local;

import backstop.core.json.Json;
import backstop.local.connect.ConnectEmulator;
import com.fasterxml.jackson.databind.JsonNode;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ScanRequest;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the local ops view shows: every demo agent's status in Connect, their sessions, the transitions and the
 * latest events. A scan is fine here: it reads the local table only (the functions never scan).
 */
final class OpsState {
    private OpsState() {
    }

    static String json(LocalStack stack) {
        List<Map<String, AttributeValue>> items = new ArrayList<>();
        Map<String, AttributeValue> start = null;
        do {
            Map<String, AttributeValue> from = start;
            var page = stack.clients().dynamoDb().scan(ScanRequest.builder().tableName(stack.config().sessionsTable())
                    .exclusiveStartKey(from).build());
            items.addAll(page.items());
            start = page.hasLastEvaluatedKey() && !page.lastEvaluatedKey().isEmpty() ? page.lastEvaluatedKey() : null;
        } while (start != null);

        Map<String, List<Map<String, Object>>> sessionsByUser = new LinkedHashMap<>();
        List<Map<String, Object>> transitions = new ArrayList<>();
        for (Map<String, AttributeValue> item : items) {
            String pk = item.get("pk").s();
            if (pk.startsWith("SESSION#")) {
                Map<String, Object> session = new LinkedHashMap<>();
                session.put("sessionId", pk.substring("SESSION#".length()));
                session.put("state", text(item, "sessionState"));
                session.put("lastSeen", number(item, "lastSeen"));
                session.put("closeReason", text(item, "closeReason"));
                session.put("closeOutcome", text(item, "closeOutcome"));
                session.put("heartbeats", number(item, "heartbeats"));
                sessionsByUser.computeIfAbsent(text(item, "userId"), u -> new ArrayList<>()).add(session);
            } else if (pk.startsWith("TRANSITION#")) {
                Map<String, Object> transition = new LinkedHashMap<>();
                transition.put("sessionId", text(item, "sessionId"));
                transition.put("userId", text(item, "userId"));
                transition.put("state", text(item, "transitionState"));
                transition.put("reason", text(item, "reason"));
                transition.put("attempts", number(item, "attempts"));
                transition.put("lastError", text(item, "lastError"));
                transition.put("createdAt", number(item, "createdAt"));
                transition.put("nextAttemptAt", number(item, "nextAttemptAt"));
                transitions.add(transition);
            }
        }
        transitions.sort(Comparator.comparing((Map<String, Object> t) -> (Long) t.getOrDefault("createdAt", 0L),
                Comparator.nullsFirst(Comparator.naturalOrder())).reversed());

        List<Map<String, Object>> agents = new ArrayList<>();
        for (ConnectEmulator.AgentView view : stack.connect().agents(stack.instanceId())) {
            Map<String, Object> agent = new LinkedHashMap<>();
            agent.put("userId", view.userId());
            agent.put("name", view.firstName() + " " + view.lastName());
            agent.put("routingProfileId", view.routingProfileId());
            agent.put("statusName", view.statusName());
            agent.put("statusType", view.statusType().name());
            agent.put("statusSince", view.statusStart().toEpochMilli());
            agent.put("nextStatusName", view.nextStatusName());
            agent.put("onContact", view.onContact());
            List<Map<String, Object>> sessions = new ArrayList<>(sessionsByUser.getOrDefault(view.userId(), List.of()));
            sessions.sort(Comparator.comparing((Map<String, Object> m) -> (Long) m.getOrDefault("lastSeen", 0L),
                    Comparator.nullsFirst(Comparator.naturalOrder())).reversed());
            agent.put("sessions", sessions.size() > 5 ? sessions.subList(0, 5) : sessions);
            agent.put("openSessions", sessions.stream().filter(m -> "OPEN".equals(m.get("state"))).count());
            agents.add(agent);
        }

        List<JsonNode> all = stack.events().events();
        List<Map<String, Object>> events = new ArrayList<>();
        for (int i = all.size() - 1; i >= 0 && events.size() < 20; i--) {
            JsonNode event = all.get(i);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("type", event.path("detail-type").asText());
            e.put("time", event.path("time").asText());
            e.put("userId", event.path("detail").path("userId").asText());
            e.put("reason", event.path("detail").path("reason").asText(null));
            e.put("deferred", event.path("detail").path("deferred").asBoolean(false));
            e.put("lastError", event.path("detail").path("lastError").asText(null));
            events.add(e);
        }

        Map<String, Object> state = new LinkedHashMap<>();
        state.put("instanceId", stack.instanceId());
        state.put("now", System.currentTimeMillis());
        state.put("staleAfterSeconds", stack.config().staleAfterSeconds());
        state.put("agents", agents);
        state.put("transitions", transitions.size() > 30 ? transitions.subList(0, 30) : transitions);
        state.put("events", events);
        return Json.write(state);
    }

    private static String text(Map<String, AttributeValue> item, String name) {
        AttributeValue value = item.get(name);
        return value == null ? null : value.s();
    }

    private static Long number(Map<String, AttributeValue> item, String name) {
        AttributeValue value = item.get(name);
        return value == null || value.n() == null ? null : Long.parseLong(value.n());
    }
}
