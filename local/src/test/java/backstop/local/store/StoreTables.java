package backstop.local.store;

import backstop.local.aws.AwsEmulation;
import backstop.local.aws.TemplateResources;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.util.UUID;

/** The store tier's DynamoDB: a client on the shared emulation, and tables made exactly as the template makes them. */
final class StoreTables {
    private StoreTables() {
    }

    static DynamoDbClient client() {
        return DynamoDbClient.builder().endpointOverride(AwsEmulation.shared().endpoint()).region(AwsEmulation.REGION)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("testing", "testing")))
                .httpClient(UrlConnectionHttpClient.create()).build();
    }

    /** A new table named {@code prefix}-<uuid>, as template.yaml defines the sessions table; returns its name. */
    static String create(DynamoDbClient dynamoDb, String prefix) {
        String table = prefix + "-" + UUID.randomUUID();
        TemplateResources.load(TemplateResources.findTemplate()).createSessionsTable(dynamoDb, table);
        return table;
    }
}
