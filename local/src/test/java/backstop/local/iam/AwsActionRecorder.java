package backstop.local.iam;

import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Records, for each function, the IAM actions its code makes AWS check: every SDK call of this test JVM goes
 * through it (a global interceptor, registered in
 * {@code software/amazon/awssdk/global/handlers/execution.interceptors}), and a call belongs to the function
 * whose package is on the calling thread's stack ({@code backstop.beacon} or {@code backstop.reconciler}); the
 * tests' own set-up and checks belong to neither and are not recorded.
 *
 * <p>Actions are IAM's, not the SDK's: a TransactWriteItems is checked as the PutItem, UpdateItem, DeleteItem and
 * ConditionCheckItem it holds (IAM has no action of its own for it), and a Query on an index is told apart from
 * one on the table, since the two are granted on different resources.
 */
public final class AwsActionRecorder implements ExecutionInterceptor {
    public static final String BEACON = "BeaconFunction";
    public static final String RECONCILER = "ReconcilerFunction";
    /** The resource an action is checked on, as the template grants it. */
    public static final String ON_TABLE = "table";
    public static final String ON_INDEX = "index";
    public static final String ANY = "*";

    private static final Map<String, Set<String>> USED = new ConcurrentHashMap<>();
    private static final Map<String, String> IAM_PREFIX = Map.of("DynamoDB", "dynamodb", "Connect", "connect",
            "EventBridge", "events");
    private static final StackWalker STACK = StackWalker.getInstance();

    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
        Optional<String> function = callingFunction();
        if (function.isEmpty()) {
            return;
        }
        String service = attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME);
        String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
        Set<String> used = USED.computeIfAbsent(function.get(), k -> ConcurrentHashMap.newKeySet());
        used.addAll(actions(IAM_PREFIX.getOrDefault(service, service.toLowerCase()), operation, context.request()));
    }

    /** "dynamodb:Query on index", "connect:PutUserStatus on *": the actions IAM checks for one request. */
    static List<String> actions(String prefix, String operation, SdkRequest request) {
        if (request instanceof TransactWriteItemsRequest transaction) {
            return transaction.transactItems().stream().map(AwsActionRecorder::transactAction).distinct()
                    .map(action -> prefix + ":" + action + " on " + ON_TABLE).toList();
        }
        if (prefix.equals("dynamodb")) {
            boolean index = request instanceof QueryRequest query && query.indexName() != null;
            return List.of(prefix + ":" + operation + " on " + (index ? ON_INDEX : ON_TABLE));
        }
        return List.of(prefix + ":" + operation + " on " + ANY);
    }

    private static String transactAction(TransactWriteItem item) {
        if (item.put() != null) {
            return "PutItem";
        }
        if (item.update() != null) {
            return "UpdateItem";
        }
        if (item.delete() != null) {
            return "DeleteItem";
        }
        return "ConditionCheckItem";
    }

    /**
     * The function on the calling thread's stack. One hand-off hides it: the reconciler's events go out on the
     * sender thread of {@code BatchingEventPublisher} (shared code that only {@code ReconcilerWiring} builds; the
     * beacon publishes within its own request), whose stack starts at that class.
     */
    private static Optional<String> callingFunction() {
        return STACK.walk(frames -> frames.map(StackWalker.StackFrame::getClassName)
                .map(AwsActionRecorder::owner).filter(java.util.Objects::nonNull).findFirst());
    }

    private static String owner(String className) {
        if (className.startsWith("backstop.beacon.")) {
            return BEACON;
        }
        if (className.startsWith("backstop.reconciler.") || className.equals("backstop.core.events.BatchingEventPublisher")) {
            return RECONCILER;
        }
        return null;
    }

    /** What each function's code has called so far in this JVM, sorted. */
    public static Map<String, Set<String>> used() {
        Map<String, Set<String>> copy = new TreeMap<>();
        USED.forEach((function, actions) -> copy.put(function, new TreeSet<>(actions)));
        return copy;
    }
}
