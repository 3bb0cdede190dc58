package backstop.core.aws;

import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;
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
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The one place SDK clients are built: one light HTTP client shared by all of them, the region and
 * credentials named explicitly (no provider-chain probing at start-up), and an endpoint override that only
 * the local stack and the tests set. In Lambda the SDK itself also honours {@code AWS_ENDPOINT_URL[_SERVICE]},
 * which nothing in the template sets.
 *
 * @param awsEndpoint DynamoDB and EventBridge endpoint override (moto / LocalStack), or empty for AWS
 * @param connectEndpoint Connect endpoint override (the Connect emulator), or empty for AWS
 */
public record AwsClients(DynamoDbClient dynamoDb, EventBridgeClient eventBridge, ConnectClient connect,
                         SdkHttpClient httpClient) implements AutoCloseable {

    /** Where the clients point and who they are. */
    public record Target(Region region, AwsCredentialsProvider credentials, Optional<URI> awsEndpoint,
                         Optional<URI> connectEndpoint) {
        /** Production: region from {@code AWS_REGION}, credentials from the Lambda environment. */
        public static Target fromLambdaEnvironment(String region) {
            return new Target(Region.of(region), EnvironmentVariableCredentialsProvider.create(),
                    Optional.empty(), Optional.empty());
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
        DynamoDbClient dynamoDb = configure(DynamoDbClient.builder(), target, target.awsEndpoint())
                .httpClient(http).overrideConfiguration(overrides(policies.dynamoDb())).build();
        EventBridgeClient eventBridge = configure(EventBridgeClient.builder(), target, target.awsEndpoint())
                .httpClient(http).overrideConfiguration(overrides(policies.eventBridge())).build();
        ConnectClient connect = configure(ConnectClient.builder(), target, target.connectEndpoint())
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

    private static <B extends AwsClientBuilder<B, ?>> B configure(B builder, Target target, Optional<URI> endpoint) {
        builder.region(target.region()).credentialsProvider(target.credentials());
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
