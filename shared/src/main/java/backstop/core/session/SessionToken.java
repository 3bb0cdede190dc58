package backstop.core.session;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * The session's secret: 256 random bits, URL-safe base64 (43 characters), shown to the page once. Only its
 * SHA-256 is stored; it is compared in constant time and never logged ({@link #toString()} hides it).
 */
public final class SessionToken {
    private static final Pattern FORMAT = Pattern.compile("[A-Za-z0-9_-]{43}");
    private final String value;

    private SessionToken(String value) {
        this.value = value;
    }

    public static SessionToken random(SecureRandom random) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return new SessionToken(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
    }

    /** The token as the page sent it; a malformed one is refused like a wrong one. */
    public static SessionToken parse(String text) {
        if (text == null || !FORMAT.matcher(text).matches()) {
            throw new IllegalArgumentException("malformed token");
        }
        return new SessionToken(text);
    }

    /** The value to hand to the page, once. */
    public String reveal() {
        return value;
    }

    public byte[] hash() {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** Constant-time comparison with a stored hash. */
    public boolean matches(byte[] storedHash) {
        return storedHash != null && MessageDigest.isEqual(hash(), storedHash);
    }

    @Override
    public String toString() {
        return "SessionToken[redacted]";
    }
}
