package backstop.local.bench;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cost benchmark's pricing of DynamoDB requests (part of the test command: the bill is only as right as
 * these rules). Sizes and units as DynamoDB's documentation states them, on items shaped like ours.
 */
class CapacityRulesTest {
    static final CapacityRules.Index OPEN_KEYS_ONLY = new CapacityRules.Index("OpenSessionsByShard", List.of("openShard"), "KEYS_ONLY", Set.of());
    static final CapacityRules.Index OPEN_BY_LAST_SEEN = new CapacityRules.Index("OpenSessionsByLastSeen", List.of("openShard", "lastSeen"), "ALL", Set.of());
    static final CapacityRules.Index DUE = new CapacityRules.Index("PendingTransitionsByDue", List.of("dueShard", "nextAttemptAt"), "ALL", Set.of());

    static Map<String, AttributeValue> session(long lastSeen, boolean open) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put("pk", AttributeValue.fromS("SESSION#0123456789abcdefghijkl"));
        item.put("sk", AttributeValue.fromS("SESSION"));
        item.put("userId", AttributeValue.fromS("f1e2d3c4-b5a6-4789-8abc-def012345678"));
        item.put("instanceArn", AttributeValue.fromS("arn:aws:connect:us-east-1:123456789012:instance/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"));
        item.put("tokenHash", AttributeValue.fromB(SdkBytes.fromByteArray(new byte[32])));
        item.put("lastSeen", AttributeValue.fromN(Long.toString(lastSeen)));
        item.put("sessionState", AttributeValue.fromS(open ? "OPEN" : "CLOSED"));
        if (open) {
            item.put("openShard", AttributeValue.fromS("OPEN#7"));
        }
        return item;
    }

    @Test
    void size_should_countNamesAndValues_asDynamoDbDocumentsThem() {
        assertThat(CapacityRules.size(Map.of("ab", AttributeValue.fromS("héllo")))).as("2 + 6 UTF-8 bytes").isEqualTo(8);
        assertThat(CapacityRules.size(AttributeValue.fromN("1764403212345"))).as("13 significant digits: 7 + 1").isEqualTo(8);
        assertThat(CapacityRules.size(AttributeValue.fromN("1764403200000"))).as("trailing zeros trimmed: 8 digits, 4 + 1").isEqualTo(5);
        assertThat(CapacityRules.size(AttributeValue.fromN("1200"))).as("2 significant digits: 1 + 1").isEqualTo(2);
        assertThat(CapacityRules.size(AttributeValue.fromB(SdkBytes.fromByteArray(new byte[32])))).isEqualTo(32);
        assertThat(CapacityRules.size(AttributeValue.fromBool(true))).isEqualTo(1);
        assertThat(CapacityRules.size(AttributeValue.fromSs(List.of("abc", "de")))).isEqualTo(5);
        assertThat(CapacityRules.size(AttributeValue.fromM(Map.of("k", AttributeValue.fromS("vv"))))).as("3 + (1 + 1 + 2)").isEqualTo(7);
        assertThat(CapacityRules.size(AttributeValue.fromL(List.of(AttributeValue.fromS("a"), AttributeValue.fromS("bc"))))).as("3 + 2 + 3").isEqualTo(8);
    }

    @Test
    void heartbeat_should_costOneWriteUnit_onAKeysOnlyIndex_andThree_onAnIndexSortedByLastSeen() {
        Map<String, AttributeValue> before = session(1_764_403_200_000L, true);
        Map<String, AttributeValue> after = session(1_764_403_230_000L, true);

        assertThat(new CapacityRules(List.of("pk", "sk"), List.of(OPEN_KEYS_ONLY, DUE)).writeUnits(before, after, false))
                .as("the item; nothing the index holds changed").isEqualTo(1.0);
        assertThat(new CapacityRules(List.of("pk", "sk"), List.of(OPEN_BY_LAST_SEEN, DUE)).writeUnits(before, after, false))
                .as("the item, and the index entry deleted and put again under its new sort key").isEqualTo(3.0);
    }

    @Test
    void writes_should_countEntriesAddedAndRemoved_andDoubleTransactionalItems() {
        CapacityRules rules = new CapacityRules(List.of("pk", "sk"), List.of(OPEN_KEYS_ONLY, DUE));
        assertThat(rules.writeUnits(null, session(1, true), true)).as("register: 2 for the item in a transaction, 1 index entry put").isEqualTo(3.0);
        assertThat(rules.writeUnits(session(1, true), session(1, false), true)).as("close: 2, and the index entry removed").isEqualTo(3.0);
        assertThat(rules.writeUnits(session(1, false), session(2, false), false)).as("outside every index").isEqualTo(1.0);
        Map<String, AttributeValue> big = session(1, true);
        big.put("padding", AttributeValue.fromS("x".repeat(1500)));
        assertThat(rules.writeUnits(session(1, true), big, false)).as("the larger image, 2 KB started; KEYS_ONLY entry unchanged").isEqualTo(2.0);
        CapacityRules all = new CapacityRules(List.of("pk", "sk"), List.of(new CapacityRules.Index("i", List.of("openShard"), "ALL", Set.of())));
        assertThat(all.writeUnits(session(1, true), big, false)).as("an ALL index rewrites its entry at the new size").isEqualTo(4.0);
    }

    @Test
    void reads_should_costHalfAUnitPer4KbStarted_whenEventuallyConsistent() {
        assertThat(CapacityRules.readUnits(0, false)).as("nothing found still costs the minimum").isEqualTo(0.5);
        assertThat(CapacityRules.readUnits(4096, true)).isEqualTo(1.0);
        assertThat(CapacityRules.readUnits(4097, true)).isEqualTo(2.0);
        assertThat(CapacityRules.readUnits(10_000, false)).isEqualTo(1.5);
    }
}
