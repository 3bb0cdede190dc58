package backstop.core.session;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * A session's public id, URL-safe base64: 128 random bits and a 64-bit tag ({@link SessionIds}: 32 characters), or
 * 128 random bits alone (22 characters: ids issued before the tag). Not a secret: the token is.
 */
public record SessionId(String value) {
    private static final Pattern FORMAT = Pattern.compile("[A-Za-z0-9_-]{22}|[A-Za-z0-9_-]{32}");

    public SessionId {
        if (value == null || !FORMAT.matcher(value).matches()) {
            throw new IllegalArgumentException("a session id is 32 (or, issued before tags, 22) URL-safe base64 characters");
        }
    }

    /** Whether it carries a tag (issued with {@link SessionIds}), or is an untagged id from before. */
    public boolean isTagged() {
        return value.length() == 32;
    }

    public static boolean isWellFormed(String value) {
        return value != null && FORMAT.matcher(value).matches();
    }

    public static SessionId random(SecureRandom random) {
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        return new SessionId(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
    }

    @Override
    public String toString() {
        return value;
    }
}
