package backstop.core.random;

import java.security.SecureRandom;
import java.security.SecureRandomParameters;
import java.util.Base64;

/**
 * The one source of unique values (session ids, tokens, lease claims, jitter) that stays unique across
 * SnapStart restores: every restored copy of a snapshot would otherwise continue the same generator state and
 * hand out the same "random" bytes. {@link #reseed()}, called from the CRaC {@code afterRestore} hook, replaces
 * the generator with one seeded after the restore.
 */
public final class RestoreSafeRandom extends SecureRandom {
    private transient volatile SecureRandom current;

    public RestoreSafeRandom() {
        this(new SecureRandom());
    }

    /** Starting from {@code initial}'s state (tests: two copies of one snapshot start from the same state). */
    RestoreSafeRandom(SecureRandom initial) {
        this.current = initial;
    }

    /** A generator seeded now (called after a snapshot restore). */
    public void reseed() {
        current = new SecureRandom();
    }

    /** 128 random bits, URL-safe base64: a lease claim no other writer can hold. */
    public String claim() {
        byte[] bytes = new byte[16];
        nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    @Override
    public void nextBytes(byte[] bytes) {
        current.nextBytes(bytes);
    }

    @Override
    public void nextBytes(byte[] bytes, SecureRandomParameters params) {
        current.nextBytes(bytes, params);
    }

    @Override
    public byte[] generateSeed(int numBytes) {
        return current.generateSeed(numBytes);
    }

    @Override
    public void setSeed(long seed) {
        SecureRandom delegate = current;
        if (delegate != null) { // null while SecureRandom's own constructor runs
            delegate.setSeed(seed);
        }
    }

    @Override
    public void setSeed(byte[] seed) {
        current.setSeed(seed);
    }

    @Override
    public String getAlgorithm() {
        return current.getAlgorithm();
    }

    @Override
    public String toString() {
        return "RestoreSafeRandom[" + current.getAlgorithm() + "]";
    }
}
