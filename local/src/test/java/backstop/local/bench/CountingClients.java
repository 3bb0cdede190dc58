package backstop.local.bench;

import backstop.core.aws.AwsClients;
import backstop.local.LocalStack;
import backstop.local.aws.AwsEmulation;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The stack's clients with DynamoDB requests counted by operation (and the items Query responses read): what
 * DynamoDB bills, measured rather than assumed. Benchmarks only.
 */
final class CountingClients implements AutoCloseable {
    private final Map<String, AtomicLong> requests = new ConcurrentHashMap<>();
    private final AtomicLong itemsRead = new AtomicLong();
    private final DynamoDbClient dynamoDb;
    private final AwsClients clients;

    CountingClients(LocalStack stack) {
        ExecutionInterceptor counter = new ExecutionInterceptor() {
            @Override
            public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
                requests.computeIfAbsent(context.request().getClass().getSimpleName().replace("Request", ""),
                        k -> new AtomicLong()).incrementAndGet();
                if (context.response() instanceof QueryResponse query) {
                    itemsRead.addAndGet(query.scannedCount() == null ? query.count() : query.scannedCount());
                }
            }
        };
        dynamoDb = DynamoDbClient.builder().endpointOverride(AwsEmulation.shared().endpoint())
                .region(AwsEmulation.REGION)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("testing", "testing")))
                .httpClient(stack.clients().httpClient())
                .overrideConfiguration(o -> o.addExecutionInterceptor(counter).apiCallTimeout(Duration.ofSeconds(120)))
                .build();
        clients = new AwsClients(dynamoDb, stack.clients().eventBridge(), stack.clients().connect(), stack.clients().httpClient());
    }

    AwsClients clients() {
        return clients;
    }

    /** Requests by operation since the last reset, e.g. {GetItem=1, TransactWriteItems=1}. */
    Map<String, Long> requests() {
        Map<String, Long> copy = new TreeMap<>();
        requests.forEach((operation, count) -> copy.put(operation, count.get()));
        return copy;
    }

    long total() {
        return requests.values().stream().mapToLong(AtomicLong::get).sum();
    }

    long itemsRead() {
        return itemsRead.get();
    }

    void reset() {
        requests.clear();
        itemsRead.set(0);
    }

    @Override
    public void close() {
        dynamoDb.close();
    }
}
