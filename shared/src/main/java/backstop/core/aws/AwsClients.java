package backstop.core.aws;

import backstop.core.config.BackstopConfig;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.connect.ConnectClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.stream.Stream;

/**
 * The one place SDK clients are built: one light HTTP client shared by all of them, the regions and
 * credentials named explicitly (no provider-chain probing at start-up; see {@link LambdaCredentials}), and an
 * endpoint override that only the local stack and the tests set. The SDK itself also honours
 * {@code AWS_ENDPOINT_URL_<SERVICE>}, which nothing in the template sets and the Lambda environment contract test
 * uses to point the built functions at moto and the Connect emulator.
 *
 * @param awsEndpoint DynamoDB and EventBridge endpoint override (moto / LocalStack), or empty for AWS
 * @param connectEndpoint Connect endpoint override (the Connect emulator), or empty for AWS
 */
public record AwsClients(DynamoDbClient dynamoDb, EventBridgeClient eventBridge, ConnectClient connect,
                         SdkHttpClient httpClient) implements AutoCloseable {

    /**
     * Where the clients point and who they are. {@code connectRegion} is the Connect instance's own Region, which
     * may differ from the stack's: Connect answers for an instance only in the Region that holds it.
     */
    public record Target(Region region, Region connectRegion, AwsCredentialsProvider credentials,
                         Optional<URI> awsEndpoint, Optional<URI> connectEndpoint) {
        /** One Region for every client (the local stack and tests). */
        public Target(Region region, AwsCredentialsProvider credentials, Optional<URI> awsEndpoint, Optional<URI> connectEndpoint) {
            this(region, region, credentials, awsEndpoint, connectEndpoint);
        }

        /**
         * Production: DynamoDB and EventBridge in the function's Region ({@code AWS_REGION}), Connect in the Region
         * of {@code CONNECT_INSTANCE_ARN}, credentials as Lambda gives them ({@link LambdaCredentials}).
         */
        public static Target fromLambdaEnvironment(BackstopConfig config) {
            return fromLambdaEnvironment(config, System.getenv());
        }

        static Target fromLambdaEnvironment(BackstopConfig config, Map<String, String> env) {
            return new Target(Region.of(config.region()), Region.of(config.connectInstance().region()),
                    LambdaCredentials.from(env), Optional.empty(), Optional.empty());
        }
    }

    /** The clients for {@code target}, each trying calls exactly as {@code policies} says (see {@link CallPolicy}). */
    public static AwsClients create(Target target, ClientPolicies policies) {
        Duration longestAttempt = Stream.of(policies.dynamoDb(), policies.eventBridge(), policies.connect())
                .map(CallPolicy::attemptTimeout).max(Duration::compareTo).orElseThrow();
        SdkHttpClient http = UrlConnectionHttpClient.builder()
                .connectionTimeout(Duration.ofSeconds(2))
                .socketTimeout(longestAttempt)
                .build();
        DynamoDbClient dynamoDb = configure(DynamoDbClient.builder(), target.region(), target, target.awsEndpoint())
                .httpClient(http).overrideConfiguration(overrides(policies.dynamoDb())).build();
        EventBridgeClient eventBridge = configure(EventBridgeClient.builder(), target.region(), target, target.awsEndpoint())
                .httpClient(http).overrideConfiguration(overrides(policies.eventBridge())).build();
        ConnectClient connect = configure(ConnectClient.builder(), target.connectRegion(), target, target.connectEndpoint())
                .httpClient(http).overrideConfiguration(overrides(policies.connect())).build();
        return new AwsClients(dynamoDb, eventBridge, connect, http);
    }

    /** An explicit retry strategy: the SDK then reads no retry setting from the environment or profile. */
    static ClientOverrideConfiguration overrides(CallPolicy policy) {
        return ClientOverrideConfiguration.builder()
                .retryStrategy(policy.maxAttempts() == 1 ? AwsRetryStrategy.doNotRetry()
                        : AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(policy.maxAttempts()).build())
                .apiCallAttemptTimeout(policy.attemptTimeout())
                .apiCallTimeout(policy.apiCallTimeout())
                .build();
    }

    /**
     * Resolves the clients' credentials now, as their first call would: SnapStart priming asks before the snapshot,
     * so a function that could never sign a request fails its deploy instead of every request.
     *
     * @throws SdkClientException when no credentials can be had
     */
    public AwsCredentialsIdentity resolveCredentials() {
        try {
            return dynamoDb.serviceClientConfiguration().credentialsProvider().resolveIdentity().join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
    }

    private static <B extends AwsClientBuilder<B, ?>> B configure(B builder, Region region, Target target, Optional<URI> endpoint) {
        builder.region(region).credentialsProvider(target.credentials());
        endpoint.ifPresent(builder::endpointOverride);
        return builder;
    }

    @Override
    public void close() {
        dynamoDb.close();
        eventBridge.close();
        connect.close();
        httpClient.close();
    }
}
