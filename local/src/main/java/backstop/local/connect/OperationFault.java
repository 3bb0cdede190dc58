package backstop.local.connect;

/**
 * A fault injected into one Connect operation.
 *
 * @param errorRate share of calls (0..1) answered with {@code errorStatus}/{@code errorType} instead
 * @param latencyMillis added before every answer of that operation
 */
public record OperationFault(double errorRate, int errorStatus, String errorType, long latencyMillis) {
    public static final OperationFault NONE = new OperationFault(0, 500, "InternalServiceException", 0);

    public OperationFault {
        if (errorRate < 0 || errorRate > 1) {
            throw new IllegalArgumentException("errorRate must be within 0..1, got " + errorRate);
        }
        if (latencyMillis < 0) {
            throw new IllegalArgumentException("latencyMillis must be >= 0, got " + latencyMillis);
        }
        if (errorType == null || errorType.isBlank()) {
            errorType = errorStatus == 429 ? "ThrottlingException" : "InternalServiceException";
        }
    }

    public static OperationFault errors(double rate) {
        return new OperationFault(rate, 500, "InternalServiceException", 0);
    }

    public static OperationFault latency(long millis) {
        return new OperationFault(0, 500, "InternalServiceException", millis);
    }
}
