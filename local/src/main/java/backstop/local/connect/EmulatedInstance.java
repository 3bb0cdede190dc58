package backstop.local.connect;

import java.util.LinkedHashMap;
import java.util.Map;

/** An emulated Connect instance: its statuses and users, in creation order (the order list calls page in). */
final class EmulatedInstance {
    final String id;
    final String region;
    final String accountId;
    final Map<String, EmulatedStatus> statuses = new LinkedHashMap<>();
    final Map<String, EmulatedAgent> agents = new LinkedHashMap<>();

    EmulatedInstance(String id, String region, String accountId) {
        this.id = id;
        this.region = region;
        this.accountId = accountId;
    }

    String arn() {
        return "arn:aws:connect:" + region + ":" + accountId + ":instance/" + id;
    }

    String agentArn(String userId) {
        return arn() + "/agent/" + userId;
    }

    String statusArn(String statusId) {
        return arn() + "/agent-state/" + statusId;
    }

    String routingProfileArn(String routingProfileId) {
        return arn() + "/routing-profile/" + routingProfileId;
    }
}
