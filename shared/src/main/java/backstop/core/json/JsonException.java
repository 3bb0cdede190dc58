package backstop.core.json;

/** Input that is not the JSON we accept; its message is safe to show the client. */
public final class JsonException extends RuntimeException {
    public JsonException(String message) {
        super(message, null, false, false);
    }
}
