package backstop.core.events;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The audit events on the custom bus (source {@code ccp-backstop}); docs/events.md has their schemas. Every detail
 * carries {@code eventId}: the same for every delivery of one outcome (a resend after a crash, a relay after a
 * lost delete), since EventBridge delivers at least once and its own envelope {@code id} differs per PutEvents.
 */
public sealed interface BackstopEvent {
    String SOURCE = "ccp-backstop";
    String EVENT_ID = "eventId";

    String detailType();

    /** What, with the detail type, names this outcome once: the session for a transition's events. */
    String subject();

    /** The fields of this event, without the id ({@link #detail()} adds it). */
    Map<String, Object> fields();

    /** A name-based UUID of the detail type and the subject: stable across resends and relays. */
    default String eventId() {
        return UUID.nameUUIDFromBytes((SOURCE + "\n" + detailType() + "\n" + subject()).getBytes(StandardCharsets.UTF_8))
                .toString();
    }

    default Map<String, Object> detail() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put(EVENT_ID, eventId());
        d.putAll(fields());
        return d;
    }

    /**
     * The agent was set Offline (or Offline was queued as next status during a live contact: deferred, present
     * only when known: the reconciler checks for a live contact first, the beacon does not). {@code recovered}:
     * this ends a transition that had failed (an Agent Offline Failed event went out for it before).
     */
    record AgentSetOffline(String agentArn, String userId, String sessionId, String reason, int attempts,
                           java.util.Optional<Boolean> deferred, boolean recovered, Instant at) implements BackstopEvent {
        @Override
        public String subject() {
            return sessionId;
        }

        @Override
        public String detailType() {
            return "Agent Set Offline";
        }

        @Override
        public Map<String, Object> fields() {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("agentArn", agentArn);
            d.put("userId", userId);
            d.put("sessionId", sessionId);
            d.put("reason", reason);
            d.put("attempts", attempts);
            deferred.ifPresent(known -> d.put("deferred", known));
            if (recovered) {
                d.put("recovered", true);
            }
            d.put("at", at.toString());
            return d;
        }
    }

    /** Every attempt failed, or Connect refused in a way waiting cannot fix: a person has to look. */
    record AgentOfflineFailed(String agentArn, String userId, String sessionId, int attempts, String lastError,
                              Instant at) implements BackstopEvent {
        @Override
        public String subject() {
            return sessionId;
        }

        @Override
        public String detailType() {
            return "Agent Offline Failed";
        }

        @Override
        public Map<String, Object> fields() {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("agentArn", agentArn);
            d.put("userId", userId);
            d.put("sessionId", sessionId);
            d.put("attempts", attempts);
            d.put("lastError", lastError);
            d.put("at", at.toString());
            return d;
        }
    }

    /** After a reload, the page restored the status the agent had before it. */
    record AgentStatusRestored(String agentArn, String statusName, String sessionId, Instant at) implements BackstopEvent {
        @Override
        public String subject() {
            return sessionId;
        }

        @Override
        public String detailType() {
            return "Agent Status Restored";
        }

        @Override
        public Map<String, Object> fields() {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("agentArn", agentArn);
            d.put("statusName", statusName);
            d.put("sessionId", sessionId);
            d.put("at", at.toString());
            return d;
        }
    }

    /**
     * Heartbeats stopped for a large share of the open sessions at once: more likely the heartbeat path's fault
     * (the API, the network, a proxy) than every agent's, so the reconciler holds the stale sessions instead of
     * setting their agents Offline, until heartbeats come back. {@code silentShare}: the share of the sessions
     * read that had missed their heartbeats; {@code openSessions}: how many were open.
     */
    /** {@code cause}: "silence" (a large share missed their beats) or "flood" (the heartbeat route is flooded). */
    record HeartbeatOutageSuspected(int openSessions, double silentShare, String cause, Instant at) implements BackstopEvent {
        @Override
        public String subject() {
            return at.toString();
        }

        @Override
        public String detailType() {
            return "Heartbeat Outage Suspected";
        }

        @Override
        public Map<String, Object> fields() {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("openSessions", openSessions);
            d.put("silentShare", Math.round(silentShare * 1000) / 1000.0);
            d.put("cause", cause);
            d.put("at", at.toString());
            return d;
        }
    }

    /**
     * Heartbeats came back: the brake released. Sessions still silent a full stale limit after
     * {@code recoveredAt} (the first heartbeat seen after the outage began) are closed as usual.
     */
    record HeartbeatOutageEnded(Instant engagedAt, Instant recoveredAt, Instant at) implements BackstopEvent {
        @Override
        public String subject() {
            return engagedAt.toString();
        }

        @Override
        public String detailType() {
            return "Heartbeat Outage Ended";
        }

        @Override
        public Map<String, Object> fields() {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("engagedAt", engagedAt.toString());
            d.put("recoveredAt", recoveredAt.toString());
            d.put("at", at.toString());
            return d;
        }
    }
}
