package backstop.core.agent;

/**
 * An agent status as the page reports it from Streams ({@code name}, {@code arn}), e.g. the status at close
 * that a reload restores.
 */
public record AgentStatus(String name, String arn) {
    public static final int MAX_NAME = 127;
    public static final int MAX_ARN = 300;

    public AgentStatus {
        if (name == null || name.isEmpty() || name.length() > MAX_NAME) {
            throw new IllegalArgumentException("status.name must be 1-" + MAX_NAME + " characters");
        }
        if (arn != null && (arn.isEmpty() || arn.length() > MAX_ARN)) {
            throw new IllegalArgumentException("status.arn must be 1-" + MAX_ARN + " characters");
        }
    }
}
