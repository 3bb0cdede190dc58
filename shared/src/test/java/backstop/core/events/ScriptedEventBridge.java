package backstop.core.events;

import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequest;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;
import software.amazon.awssdk.services.eventbridge.model.PutEventsResponse;
import software.amazon.awssdk.services.eventbridge.model.PutEventsResultEntry;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * An EventBridgeClient for unit tests: PutEvents records each request and answers as the service does, entry by
 * entry (a refused entry carries an error code, FailedEntryCount counts them), from a rule the test sets.
 */
final class ScriptedEventBridge implements EventBridgeClient {
    final List<List<PutEventsRequestEntry>> calls = new ArrayList<>();
    /** Which entries EventBridge refuses on the given call (numbered from 1); none by default. */
    Function<Integer, Predicate<PutEventsRequestEntry>> refuses = call -> entry -> false;
    /** Calls (numbered from 1) that never reach the service. */
    Predicate<Integer> unreachable = call -> false;
    /** The service leaves FailedEntryCount out of its answer. */
    boolean noFailedCount;

    @Override
    public PutEventsResponse putEvents(PutEventsRequest request) {
        calls.add(request.entries());
        int call = calls.size();
        if (unreachable.test(call)) {
            throw SdkClientException.create("Unable to execute HTTP request: connect timed out");
        }
        Predicate<PutEventsRequestEntry> refused = refuses.apply(call);
        List<PutEventsResultEntry> results = request.entries().stream()
                .map(e -> refused.test(e)
                        ? PutEventsResultEntry.builder().errorCode("ThrottlingException").errorMessage("Rate exceeded").build()
                        : PutEventsResultEntry.builder().eventId("id-" + call).build())
                .toList();
        int failed = (int) results.stream().filter(r -> r.errorCode() != null).count();
        return PutEventsResponse.builder().entries(results).failedEntryCount(noFailedCount ? null : failed).build();
    }

    @Override
    public String serviceName() {
        return "events";
    }

    @Override
    public void close() {
    }
}
