package backstop.core.session;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/** A session's public id: 128 random bits, URL-safe base64 (22 characters). Not a secret: the token is. */
public record SessionId(String value) {
    private static final Pattern FORMAT = Pattern.compile("[A-Za-z0-9_-]{22}");

    public SessionId {
        if (value == null || !FORMAT.matcher(value).matches()) {
            throw new IllegalArgumentException("a session id is 22 URL-safe base64 characters");
        }
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
