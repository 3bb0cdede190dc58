package backstop.core.agent;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An agent (Connect user) of an instance. Streams reports {@code arn:aws:connect:R:A:instance/I/agent/U};
 * the user id Connect's API wants is the segment after {@code agent/}.
 */
public record AgentRef(InstanceRef instance, String userId) {
    private static final Pattern ARN = Pattern.compile(
            "(arn:(?:aws|aws-cn|aws-us-gov):connect:[a-z]{2}(?:-[a-z]+){1,2}-\\d:\\d{12}:instance/" + InstanceRef.ID
                    + ")/agent/(" + InstanceRef.ID + ")");

    /** The agent ARN parsed, or empty when it is not one. */
    public static Optional<AgentRef> parseArn(String arn) {
        if (arn == null || arn.length() > 256) {
            return Optional.empty();
        }
        Matcher m = ARN.matcher(arn);
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new AgentRef(InstanceRef.parseArn(m.group(1)), m.group(2)));
    }

    public String arn() {
        return instance.arn() + "/agent/" + userId;
    }
}
