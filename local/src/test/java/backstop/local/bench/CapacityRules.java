package backstop.local.bench;

import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * DynamoDB's published capacity rules (on-demand: write and read request units), applied to one request's item
 * images. The emulator cannot answer these: moto's ConsumedCapacity is a placeholder (0.5 for an UpdateItem,
 * no index units), so the cost benchmark records every request's items before and after and prices them here.
 * <ul>
 * <li>Item size: attribute names (UTF-8) plus values: strings UTF-8 bytes, numbers 1 byte per 2 significant
 * digits + 1, binary its length, booleans and nulls 1, sets the sum of their elements, lists and maps 3 bytes
 * plus 1 a element (plus map keys).</li>
 * <li>A write: 1 unit per started KB of the larger of the item before and after (at least 1); a transactional
 * write 2.</li>
 * <li>Each global secondary index the write affects: an entry added (the item gains the index keys) 1 write of
 * the entry's size; removed 1; its key changed 2 (delete + put); only projected attributes changed 1; nothing
 * projected changed 0. An index entry is the table and index keys, the projected attributes and 100 bytes.</li>
 * <li>A read: 1 unit per started 4 KB (strongly consistent), half that eventually consistent; a Query sums the
 * sizes of the items it read before rounding; a read that finds nothing still costs the minimum.</li>
 * </ul>
 */
final class CapacityRules {
    static final int INDEX_ENTRY_OVERHEAD = 100;

    /** An index as DynamoDB keeps it: its key attributes and what it projects (ALL, KEYS_ONLY or the INCLUDE list). */
    record Index(String name, List<String> keys, String projection, Set<String> included) {
    }

    private final List<String> tableKeys;
    private final List<Index> indexes;

    CapacityRules(List<String> tableKeys, List<Index> indexes) {
        this.tableKeys = List.copyOf(tableKeys);
        this.indexes = List.copyOf(indexes);
    }

    /** Write units of one item's write (null image = no item), the table's and every index's. */
    double writeUnits(Map<String, AttributeValue> before, Map<String, AttributeValue> after, boolean transactional) {
        long largest = Math.max(size(before), size(after));
        double units = Math.max(1, kilobytes(largest)) * (transactional ? 2 : 1);
        for (Index index : indexes) {
            units += indexWrites(index, before, after);
        }
        return units;
    }

    /** The index's share of a write: entries deleted and put, each by its own size. */
    double indexWrites(Index index, Map<String, AttributeValue> before, Map<String, AttributeValue> after) {
        Map<String, AttributeValue> was = entry(index, before);
        Map<String, AttributeValue> is = entry(index, after);
        if (was == null && is == null) {
            return 0;
        }
        if (was == null) {
            return kilobytes(size(is) + INDEX_ENTRY_OVERHEAD);
        }
        if (is == null) {
            return kilobytes(size(was) + INDEX_ENTRY_OVERHEAD);
        }
        boolean keyMoved = index.keys().stream().anyMatch(key -> !Objects.equals(was.get(key), is.get(key)));
        if (keyMoved) {
            return kilobytes(size(was) + INDEX_ENTRY_OVERHEAD) + kilobytes(size(is) + INDEX_ENTRY_OVERHEAD);
        }
        return was.equals(is) ? 0 : kilobytes(size(is) + INDEX_ENTRY_OVERHEAD);
    }

    /** What the index holds of the item, or null when the item lacks one of the index's keys (sparse index). */
    Map<String, AttributeValue> entry(Index index, Map<String, AttributeValue> item) {
        if (item == null || !item.keySet().containsAll(index.keys())) {
            return null;
        }
        if ("ALL".equals(index.projection())) {
            return item;
        }
        Map<String, AttributeValue> projected = new java.util.HashMap<>();
        item.forEach((name, value) -> {
            if (tableKeys.contains(name) || index.keys().contains(name) || index.included().contains(name)) {
                projected.put(name, value);
            }
        });
        return projected;
    }

    /** Read units of reading {@code bytes} in one request (an item, or a Query page's items together). */
    static double readUnits(long bytes, boolean consistent) {
        double units = Math.max(1, Math.ceil(bytes / 4096.0));
        return consistent ? units : units / 2;
    }

    static long kilobytes(long bytes) {
        return (long) Math.ceil(bytes / 1024.0);
    }

    static long size(Map<String, AttributeValue> item) {
        if (item == null) {
            return 0;
        }
        long size = 0;
        for (Map.Entry<String, AttributeValue> attribute : item.entrySet()) {
            size += utf8(attribute.getKey()) + size(attribute.getValue());
        }
        return size;
    }

    static long size(AttributeValue value) {
        return switch (value.type()) {
            case S -> utf8(value.s());
            case N -> number(value.n());
            case B -> value.b().asByteArrayUnsafe().length;
            case BOOL, NUL -> 1;
            case SS -> value.ss().stream().mapToLong(CapacityRules::utf8).sum();
            case NS -> value.ns().stream().mapToLong(CapacityRules::number).sum();
            case BS -> value.bs().stream().mapToLong(b -> b.asByteArrayUnsafe().length).sum();
            case L -> 3 + value.l().stream().mapToLong(element -> 1 + size(element)).sum();
            case M -> 3 + value.m().entrySet().stream().mapToLong(e -> 1 + utf8(e.getKey()) + size(e.getValue())).sum();
            case UNKNOWN_TO_SDK_VERSION -> throw new IllegalArgumentException("unknown attribute type");
        };
    }

    private static long number(String n) {
        String digits = new BigDecimal(n).stripTrailingZeros().unscaledValue().abs().toString();
        return (digits.length() + 1) / 2 + 1;
    }

    private static long utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
