package backstop.local.aws;

import backstop.core.aws.AwsClients;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class AwsEmulationTest {

    @Test
    void dynamoDbAndEventBridge_should_answerTheRealSdk_when_emulationIsShared() {
        AwsEmulation emulation = AwsEmulation.shared();
        try (AwsClients clients = AwsClients.create(emulation.target(null), AwsEmulation.policies(backstop.core.aws.ClientPolicies.BEACON))) {
            String table = "emulation-" + UUID.randomUUID();
            clients.dynamoDb().createTable(r -> r.tableName(table).billingMode(BillingMode.PAY_PER_REQUEST)
                    .attributeDefinitions(AttributeDefinition.builder().attributeName("pk").attributeType(ScalarAttributeType.S).build())
                    .keySchema(KeySchemaElement.builder().attributeName("pk").keyType(KeyType.HASH).build()));
            clients.dynamoDb().putItem(r -> r.tableName(table).item(Map.of("pk", AttributeValue.fromS("a"),
                    "n", AttributeValue.fromN("7"))));

            var item = clients.dynamoDb().getItem(r -> r.tableName(table).key(Map.of("pk", AttributeValue.fromS("a")))
                    .consistentRead(true)).item();
            assertThat(item.get("n").n()).isEqualTo("7");

            String bus = "bus-" + UUID.randomUUID();
            clients.eventBridge().createEventBus(r -> r.name(bus));
            var result = clients.eventBridge().putEvents(r -> r.entries(e -> e.eventBusName(bus).source("ccp-backstop")
                    .detailType("Agent Set Offline").detail("{\"userId\":\"u1\"}")));
            assertThat(result.failedEntryCount()).isZero();
            assertThat(result.entries()).singleElement().satisfies(e -> assertThat(e.eventId()).isNotBlank());
        }
    }

    /**
     * The emulator's own transaction rollback (backstop-moto-server.py copies only the touched items) and its
     * sparse index partitions: a cancelled transaction leaves nothing behind, and an index query sees exactly
     * the items that carry the index's keys, in its partition and sort-key range, as they change.
     */
    @Test
    void transactionsAndIndexQueries_should_behaveAsDynamoDb_when_servedByThePatchedMoto() {
        try (AwsClients clients = AwsClients.create(AwsEmulation.shared().target(null), AwsEmulation.policies(backstop.core.aws.ClientPolicies.BEACON))) {
            var dynamo = clients.dynamoDb();
            String table = "patched-" + UUID.randomUUID();
            dynamo.createTable(r -> r.tableName(table).billingMode(BillingMode.PAY_PER_REQUEST)
                    .attributeDefinitions(
                            AttributeDefinition.builder().attributeName("pk").attributeType(ScalarAttributeType.S).build(),
                            AttributeDefinition.builder().attributeName("part").attributeType(ScalarAttributeType.S).build(),
                            AttributeDefinition.builder().attributeName("seen").attributeType(ScalarAttributeType.N).build())
                    .keySchema(KeySchemaElement.builder().attributeName("pk").keyType(KeyType.HASH).build())
                    .globalSecondaryIndexes(g -> g.indexName("BySeen").projection(p -> p.projectionType("ALL")).keySchema(
                            KeySchemaElement.builder().attributeName("part").keyType(KeyType.HASH).build(),
                            KeySchemaElement.builder().attributeName("seen").keyType(KeyType.RANGE).build())));
            for (int i = 0; i < 10; i++) {
                int n = i;
                dynamo.putItem(r -> r.tableName(table).item(Map.of("pk", AttributeValue.fromS("s" + n),
                        "part", AttributeValue.fromS(n % 2 == 0 ? "even" : "odd"), "seen", AttributeValue.fromN("" + n))));
            }
            dynamo.putItem(r -> r.tableName(table).item(Map.of("pk", AttributeValue.fromS("unindexed"))));

            // Cancelled: an update, a new item and a failing condition. Nothing of it may stay.
            assertThatThrownBy(() -> dynamo.transactWriteItems(r -> r.transactItems(
                    t -> t.update(u -> u.tableName(table).key(Map.of("pk", AttributeValue.fromS("s0")))
                            .updateExpression("REMOVE part")),
                    t -> t.put(p -> p.tableName(table).item(Map.of("pk", AttributeValue.fromS("new"),
                            "part", AttributeValue.fromS("even"), "seen", AttributeValue.fromN("1")))),
                    t -> t.conditionCheck(c -> c.tableName(table).key(Map.of("pk", AttributeValue.fromS("missing")))
                            .conditionExpression("attribute_exists(pk)")))))
                    .isInstanceOf(TransactionCanceledException.class);
            assertThat(dynamo.getItem(r -> r.tableName(table).key(Map.of("pk", AttributeValue.fromS("new"))).consistentRead(true))
                    .hasItem()).isFalse();
            assertThat(dynamo.getItem(r -> r.tableName(table).key(Map.of("pk", AttributeValue.fromS("s0"))).consistentRead(true))
                    .item()).containsKey("part");

            // Leaves the index (as a closed session leaves the OPEN index) and changes partition.
            dynamo.updateItem(r -> r.tableName(table).key(Map.of("pk", AttributeValue.fromS("s2"))).updateExpression("REMOVE part"));
            dynamo.updateItem(r -> r.tableName(table).key(Map.of("pk", AttributeValue.fromS("s3")))
                    .updateExpression("SET part = :e").expressionAttributeValues(Map.of(":e", AttributeValue.fromS("even"))));
            var found = dynamo.query(r -> r.tableName(table).indexName("BySeen")
                    .keyConditionExpression("part = :s AND seen < :max")
                    .expressionAttributeValues(Map.of(":s", AttributeValue.fromS("even"), ":max", AttributeValue.fromN("7"))));
            assertThat(found.items()).extracting(i -> i.get("pk").s()).containsExactly("s0", "s3", "s4", "s6");
        }
    }

    @Test
    void motoSubprocess_should_stop_when_itsJvmIsKilled() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
                AwsEmulationChild.class.getName()))
                .redirectErrorStream(true).start();
        int port;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            String portLine = null;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("endpoint=")) {
                    portLine = line;
                    break;
                }
            }
            assertThat(portLine).as("child printed its endpoint").isNotNull();
            port = Integer.parseInt(portLine.substring(portLine.lastIndexOf(':') + 1));
            assertThat(accepts(port)).isTrue();

            child.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook runs
        }

        await().atMost(Duration.ofSeconds(15)).until(() -> !accepts(port));
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
