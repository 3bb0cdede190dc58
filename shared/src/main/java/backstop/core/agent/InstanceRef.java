package backstop.core.agent;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An Amazon Connect instance: {@code arn:<partition>:connect:<region>:<account>:instance/<id>}. */
public record InstanceRef(String partition, String region, String accountId, String instanceId) {
    static final String ID = "[A-Za-z0-9-]{1,100}";
    private static final Pattern ARN = Pattern.compile(
            "arn:(aws|aws-cn|aws-us-gov):connect:([a-z]{2}(?:-[a-z]+){1,2}-\\d):(\\d{12}):instance/(" + ID + ")");

    public static InstanceRef parseArn(String arn) {
        Matcher m = arn == null ? null : ARN.matcher(arn);
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("not a Connect instance ARN: arn:aws:connect:<region>:<account>:instance/<id>");
        }
        return new InstanceRef(m.group(1), m.group(2), m.group(3), m.group(4));
    }

    public String arn() {
        return "arn:" + partition + ":connect:" + region + ":" + accountId + ":instance/" + instanceId;
    }
}
