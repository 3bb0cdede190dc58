package backstop.core.aws;

import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
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

    /**
     * Where the clients point and who they are.
     *
     * @param socketTimeout how long one answer may take; {@code apiCallTimeout} bounds a call with its retries
     */
    public record Target(Region region, AwsCredentialsProvider credentials, Optional<URI> awsEndpoint,
                         Optional<URI> connectEndpoint, Duration socketTimeout, Duration apiCallTimeout) {
        /** AWS answers in milliseconds; these bounds keep a stuck call from eating the Lambda's budget. */
        public static final Duration AWS_SOCKET_TIMEOUT = Duration.ofSeconds(5);
        public static final Duration AWS_API_CALL_TIMEOUT = Duration.ofSeconds(8);

        /** Production: region from {@code AWS_REGION}, credentials from the Lambda environment. */
        public static Target fromLambdaEnvironment(String region) {
            return new Target(Region.of(region), EnvironmentVariableCredentialsProvider.create(),
                    Optional.empty(), Optional.empty(), AWS_SOCKET_TIMEOUT, AWS_API_CALL_TIMEOUT);
        }
    }

    public static AwsClients create(Target target) {
        SdkHttpClient http = UrlConnectionHttpClient.builder()
                .connectionTimeout(Duration.ofSeconds(2))
                .socketTimeout(target.socketTimeout())
                .build();
        ClientOverrideConfiguration overrides = ClientOverrideConfiguration.builder()
                .apiCallTimeout(target.apiCallTimeout())
                .build();
        DynamoDbClient dynamoDb = configure(DynamoDbClient.builder(), target, target.awsEndpoint())
                .httpClient(http).overrideConfiguration(overrides).build();
        EventBridgeClient eventBridge = configure(EventBridgeClient.builder(), target, target.awsEndpoint())
                .httpClient(http).overrideConfiguration(overrides).build();
        ConnectClient connect = configure(ConnectClient.builder(), target, target.connectEndpoint())
                .httpClient(http).overrideConfiguration(overrides).build();
        return new AwsClients(dynamoDb, eventBridge, connect, http);
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
