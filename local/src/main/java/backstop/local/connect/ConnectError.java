package backstop.local.connect;

/** An error answered the way Connect encodes it: status code, {@code x-amzn-ErrorType}, {@code {"Message"}}. */
final class ConnectError extends RuntimeException {
    final int status;
    final String type;

    ConnectError(int status, String type, String message) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
    }

    static ConnectError notFound(String message) {
        return new ConnectError(404, "ResourceNotFoundException", message);
    }

    static ConnectError invalidParameter(String message) {
        return new ConnectError(400, "InvalidParameterException", message);
    }

    static ConnectError invalidRequest(String message) {
        return new ConnectError(400, "InvalidRequestException", message);
    }

    static ConnectError throttled() {
        return new ConnectError(429, "ThrottlingException", "Rate exceeded");
    }

    static ConnectError accessDenied(String message) {
        return new ConnectError(403, "AccessDeniedException", message);
    }
}
