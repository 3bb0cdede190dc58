package backstop.local.aws;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequest;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;
import software.amazon.awssdk.services.eventbridge.model.PutEventsResponse;
import software.amazon.awssdk.services.eventbridge.model.PutEventsResultEntry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The EventBridge client the local stack hands to the functions: every call goes to the emulated EventBridge
 * unchanged, and each entry EventBridge accepted (no error code in its result) is kept, in the envelope a rule
 * target would receive, for the tests and the ops view to read. (A rule with an SQS target would do the same,
 * but moto spends about 120 ms delivering each event to a target, which a storm test cannot afford.)
 */
public final class RecordingEventBridge implements EventBridgeClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final EventBridgeClient delegate;
    private final String region;
    private final String accountId;
    /** What the recorders of one stack share: the accepted events, and whether EventBridge is "down". */
    private final Shared shared;

    private static final class Shared {
        final List<JsonNode> accepted = new ArrayList<>();
        volatile boolean refusing;
    }

    public RecordingEventBridge(EventBridgeClient delegate, String region, String accountId) {
        this(delegate, region, accountId, new Shared());
    }

    private RecordingEventBridge(EventBridgeClient delegate, String region, String accountId, Shared shared) {
        this.delegate = delegate;
        this.region = region;
        this.accountId = accountId;
        this.shared = shared;
    }

    /** A recorder over another client (another function's) that records into, and refuses with, this one. */
    public RecordingEventBridge sharing(EventBridgeClient other) {
        return new RecordingEventBridge(other, region, accountId, shared);
    }

    /**
     * While true, every PutEvents answers as EventBridge does when it fails every entry (HTTP 200,
     * {@code FailedEntryCount} = all, {@code InternalFailure} per entry) and nothing reaches the bus.
     */
    public void refuse(boolean refusing) {
        shared.refusing = refusing;
    }

    @Override
    public PutEventsResponse putEvents(PutEventsRequest request) {
        if (shared.refusing) {
            return PutEventsResponse.builder().failedEntryCount(request.entries().size())
                    .entries(request.entries().stream().map(e -> PutEventsResultEntry.builder()
                            .errorCode("InternalFailure").errorMessage("refused by the test").build()).toList())
                    .build();
        }
        PutEventsResponse response = delegate.putEvents(request);
        List<PutEventsResultEntry> results = response.entries();
        synchronized (shared) {
            for (int i = 0; i < request.entries().size() && i < results.size(); i++) {
                if (results.get(i).errorCode() == null) {
                    shared.accepted.add(envelope(request.entries().get(i), results.get(i).eventId()));
                }
            }
        }
        return response;
    }

    private JsonNode envelope(PutEventsRequestEntry entry, String eventId) {
        ObjectNode event = JSON.createObjectNode();
        event.put("version", "0").put("id", eventId).put("detail-type", entry.detailType()).put("source", entry.source())
                .put("account", accountId).put("time", entry.time() == null ? null : entry.time().toString())
                .put("region", region);
        event.putArray("resources");
        try {
            event.set("detail", JSON.readTree(entry.detail()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        event.put("event-bus-name", entry.eventBusName());
        return event;
    }

    /** Every accepted event so far, oldest first. */
    public List<JsonNode> events() {
        synchronized (shared) {
            return List.copyOf(shared.accepted);
        }
    }

    /** Accepted events of one detail type whose detail has {@code field} = {@code value}. */
    public List<JsonNode> events(String detailType, String field, String value) {
        return events().stream().filter(e -> e.path("detail-type").asText().equals(detailType)
                && e.path("detail").path(field).asText().equals(value)).toList();
    }

    @Override
    public String serviceName() {
        return delegate.serviceName();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
