package backstop.core.session;

import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

import static backstop.core.session.ItemMapper.key;
import static backstop.core.session.ItemMapper.millis;

/**
 * Session ids that a made-up one cannot pass for: 128 random bits and a 64-bit tag (HMAC-SHA256 under a key kept
 * on the table, truncated), 32 URL-safe base64 characters. A heartbeat or close whose id carries no valid tag is
 * refused before any DynamoDB call, so a flood of made-up ids costs no write and no read. The tag only says the id
 * was issued here; the session's token still proves who may use it.
 * <p>
 * The key is one item ({@value #KEY_PK} / {@value #KEY_SK}), made by the first register (a conditional put: every
 * container ends up with the same key) and read once per container. Ids issued before it existed (22 characters,
 * untagged) are still looked up for {@link #LEGACY_WINDOW} after it was made: the pages open at an upgrade keep
 * their sessions until the end of the shift (after that a 404 makes a page register again).
 */
public final class SessionIds {
    static final String KEY_PK = "CONFIG";
    static final String KEY_SK = "SESSION-ID-KEY";
    static final String SECRET = "secret";
    static final String CREATED_AT = "createdAt";
    /** How long untagged ids from before the key are still looked up: the longest shift. */
    public static final Duration LEGACY_WINDOW = Duration.ofHours(12);
    /** How long "no key on the table yet" is believed before it is read again, for an untagged id. */
    static final Duration ABSENCE_REREAD = Duration.ofMinutes(1);
    /** The same for a tagged id: another container may have just made the key (a second, not a minute, of 404s). */
    static final Duration ABSENCE_REREAD_TAGGED = Duration.ofSeconds(1);
    private static final int RANDOM_BYTES = 16;
    private static final int TAG_BYTES = 8;

    /** The key and until when untagged ids are looked up. */
    record Key(byte[] secret, Instant legacyUntil) {
    }

    /** Where the key lives. */
    interface KeyStore {
        Optional<Key> read();

        Key create(byte[] secret, Instant now);
    }

    private final KeyStore store;
    private final SecureRandom random;
    private final Clock clock;
    private volatile Key key;
    /** When the table was last found without a key (null: never read). */
    private volatile Instant lastRead;

    SessionIds(KeyStore store, SecureRandom random, Clock clock) {
        this.store = store;
        this.random = random;
        this.clock = clock;
    }

    /** The key on {@code table}, made by the first register. */
    public static SessionIds onTable(DynamoDbClient dynamoDb, String table, SecureRandom random, Clock clock) {
        return new SessionIds(new TableKeyStore(dynamoDb, table), random, clock);
    }

    /** A fixed key (tests): untagged ids are looked up until {@code legacyUntil}. */
    public static SessionIds withKey(byte[] secret, Instant legacyUntil, Clock clock) {
        Key fixed = new Key(secret.clone(), legacyUntil);
        return new SessionIds(new KeyStore() {
            @Override public Optional<Key> read() { return Optional.of(fixed); }
            @Override public Key create(byte[] ignored, Instant now) { return fixed; }
        }, new SecureRandom(), clock);
    }

    /** A new id for a register (makes the key if this stack has none yet). */
    public SessionId issue() {
        Key k = key != null ? key : loadOrCreate();
        byte[] id = new byte[RANDOM_BYTES + TAG_BYTES];
        random.nextBytes(id);
        System.arraycopy(tag(k.secret(), id), 0, id, RANDOM_BYTES, TAG_BYTES);
        return new SessionId(Base64.getUrlEncoder().withoutPadding().encodeToString(id));
    }

    /**
     * Whether {@code id} can name a session issued here: a tagged id with a valid tag, or an untagged one inside the
     * legacy window. No I/O but the key's first read (and, while the table has none, one read a minute).
     */
    public boolean mayExist(SessionId id) {
        Optional<Key> k = current(id.isTagged() ? ABSENCE_REREAD_TAGGED : ABSENCE_REREAD);
        if (!id.isTagged()) {
            return k.map(present -> clock.instant().isBefore(present.legacyUntil())).orElse(true);
        }
        if (k.isEmpty()) {
            return false; // no key yet: no tagged id was ever issued
        }
        byte[] bytes = Base64.getUrlDecoder().decode(id.value());
        byte[] expected = tag(k.get().secret(), bytes);
        return MessageDigest.isEqual(Arrays.copyOf(expected, TAG_BYTES), Arrays.copyOfRange(bytes, RANDOM_BYTES, RANDOM_BYTES + TAG_BYTES));
    }

    private Optional<Key> current(Duration believeAbsence) {
        if (key != null) {
            return Optional.of(key);
        }
        Instant now = clock.instant();
        if (lastRead != null && now.isBefore(lastRead.plus(believeAbsence))) {
            return Optional.empty();
        }
        Optional<Key> read = store.read();
        lastRead = now;
        read.ifPresent(found -> key = found);
        return read;
    }

    private synchronized Key loadOrCreate() {
        if (key == null) {
            byte[] secret = new byte[32];
            random.nextBytes(secret);
            key = store.read().orElseGet(() -> store.create(secret, clock.instant()));
        }
        return key;
    }

    private static byte[] tag(byte[] secret, byte[] id) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update(id, 0, RANDOM_BYTES);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** The key's item on the one table. */
    static final class TableKeyStore implements KeyStore {
        private final DynamoDbClient dynamoDb;
        private final String table;

        TableKeyStore(DynamoDbClient dynamoDb, String table) {
            this.dynamoDb = dynamoDb;
            this.table = table;
        }

        @Override
        public Optional<Key> read() {
            Map<String, AttributeValue> item = dynamoDb.getItem(r -> r.tableName(table).key(key(KEY_PK, KEY_SK)).consistentRead(true)).item();
            if (item == null || item.isEmpty() || item.get(SECRET) == null || item.get(CREATED_AT) == null) {
                return Optional.empty();
            }
            return Optional.of(new Key(item.get(SECRET).b().asByteArray(),
                    Instant.ofEpochMilli(Long.parseLong(item.get(CREATED_AT).n())).plus(LEGACY_WINDOW)));
        }

        @Override
        public Key create(byte[] secret, Instant now) {
            Map<String, AttributeValue> item = new java.util.HashMap<>(key(KEY_PK, KEY_SK));
            item.put(SECRET, AttributeValue.fromB(SdkBytes.fromByteArray(secret)));
            item.put(CREATED_AT, millis(now));
            try {
                dynamoDb.putItem(r -> r.tableName(table).item(item).conditionExpression("attribute_not_exists(" + TableLayout.PK + ")"));
                return new Key(secret.clone(), now.plus(LEGACY_WINDOW));
            } catch (ConditionalCheckFailedException madeByAnother) {
                return read().orElseThrow(() -> new IllegalStateException("the session id key vanished"));
            }
        }
    }
}
