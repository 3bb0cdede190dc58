package backstop.core.agent;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class AgentRefTest {
    @Test
    void parseArn_should_splitInstanceAndUser_when_arnIsAnAgentArn() {
        AgentRef agent = AgentRef.parseArn(
                "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-4333-8444-555555555555/agent/87654321-4321-4321-4321-123456789012").orElseThrow();

        assertThat(agent.userId()).isEqualTo("87654321-4321-4321-4321-123456789012");
        assertThat(agent.instance()).isEqualTo(new InstanceRef("aws", "us-east-1", "123456789012", "11111111-2222-4333-8444-555555555555"));
        assertThat(agent.arn()).endsWith("/agent/87654321-4321-4321-4321-123456789012");
    }

    @Test
    void parseArn_should_beEmpty_when_arnIsNotAnAgentArn() {
        for (String bad : new String[] {null, "", "arn:aws:connect:us-east-1:123456789012:instance/i-1",
                "arn:aws:connect:us-east-1:123456789012:instance/i-1/queue/q", "arn:aws:connect:us-east-1:12345:instance/i/agent/u",
                "arn:aws:connect:us-east-1:123456789012:instance/i/agent/u/extra", "arn:aws:connect:us-east-1:123456789012:instance/i/agent/u\n",
                "arn:aws:connect:us-east-1:123456789012:instance/i/agent/" + "u".repeat(300)}) {
            assertThat(AgentRef.parseArn(bad)).as(String.valueOf(bad)).isEmpty();
        }
    }
}
