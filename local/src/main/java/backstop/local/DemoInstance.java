package backstop.local;

import backstop.local.connect.ConnectEmulator;

import java.util.List;

/** The demo Connect instance the local stack seeds: Available / Offline / Break and a handful of agents. */
public final class DemoInstance {
    public static final String DEFAULT_INSTANCE_ID = "00000000-0000-4000-8000-000000000001";
    public static final String REGION = "us-east-1";
    public static final String ACCOUNT_ID = "123456789012";
    public static final String SUPERVISOR_PROFILE = "rp-supervisors";

    /** A demo agent: sign in as one with {@code ccp.html?agent=<userId>}. */
    public record DemoAgent(String userId, String username, String firstName, String lastName, String routingProfileId) {
    }

    public static final List<DemoAgent> AGENTS = List.of(
            new DemoAgent("demo-ada", "ada", "Ada", "Lovelace", "rp-sales"),
            new DemoAgent("demo-alan", "alan", "Alan", "Turing", "rp-sales"),
            new DemoAgent("demo-grace", "grace", "Grace", "Hopper", "rp-support"),
            new DemoAgent("demo-katherine", "katherine", "Katherine", "Johnson", "rp-support"),
            new DemoAgent("demo-linus", "linus", "Linus", "Torvalds", "rp-support"),
            new DemoAgent("demo-margaret", "margaret", "Margaret", "Hamilton", SUPERVISOR_PROFILE));

    private DemoInstance() {
    }

    public static String instanceArn(String instanceId) {
        return "arn:aws:connect:" + REGION + ":" + ACCOUNT_ID + ":instance/" + instanceId;
    }

    public static void seed(ConnectEmulator emulator, String instanceId) {
        emulator.createInstance(instanceId, REGION, ACCOUNT_ID);
        for (DemoAgent agent : AGENTS) {
            emulator.addAgent(instanceId, agent.userId(), agent.username(), agent.firstName(), agent.lastName(),
                    agent.routingProfileId(), "Offline");
        }
    }
}
