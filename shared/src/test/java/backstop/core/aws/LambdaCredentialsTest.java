package backstop.core.aws;

import backstop.core.config.BackstopConfig;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.ContainerCredentialsProvider;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;
import software.amazon.awssdk.regions.Region;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The credentials and Regions the production clients use, chosen from the environment Lambda gives the function. */
class LambdaCredentialsTest {
    static final Map<String, String> SNAPSTART = Map.of(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9001/2021-04-23/credentials",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN", "token");
    static final Map<String, String> ON_DEMAND = Map.of(
            "AWS_ACCESS_KEY_ID", "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY", "secret", "AWS_SESSION_TOKEN", "session");

    @Test
    void source_should_beTheContainerEndpoint_underSnapStart() {
        assertThat(LambdaCredentials.source(SNAPSTART)).isEqualTo(LambdaCredentials.Source.CONTAINER);
        assertThat(LambdaCredentials.from(SNAPSTART)).isInstanceOf(ContainerCredentialsProvider.class);
    }

    @Test
    void source_should_beTheAccessKeyVariables_withoutSnapStart() {
        assertThat(LambdaCredentials.source(ON_DEMAND)).isEqualTo(LambdaCredentials.Source.ENVIRONMENT);
        assertThat(LambdaCredentials.from(ON_DEMAND)).isInstanceOf(EnvironmentVariableCredentialsProvider.class);
    }

    @Test
    void source_should_preferTheContainerEndpoint_whenBothAreSet() {
        Map<String, String> both = new HashMap<>(ON_DEMAND);
        both.putAll(SNAPSTART);
        assertThat(LambdaCredentials.source(both)).isEqualTo(LambdaCredentials.Source.CONTAINER);
    }

    @Test
    void source_should_refuseToStart_withoutAnyCredentials_orWithHalfTheContainerPair() {
        assertThatThrownBy(() -> LambdaCredentials.source(Map.of("AWS_REGION", "us-east-1")))
                .hasMessageContaining("AWS_CONTAINER_CREDENTIALS_FULL_URI").hasMessageContaining("AWS_ACCESS_KEY_ID");
        assertThatThrownBy(() -> LambdaCredentials.source(Map.of("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9001/x")))
                .hasMessageContaining("AWS_CONTAINER_AUTHORIZATION_TOKEN");
        assertThatThrownBy(() -> LambdaCredentials.source(Map.of("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY", " ")))
                .hasMessageContaining("AWS_SECRET_ACCESS_KEY");
    }

    @Test
    void target_should_callConnectInTheInstancesRegion_andTheRestInTheFunctionsRegion() {
        Map<String, String> env = new HashMap<>(SNAPSTART);
        env.put("AWS_REGION", "us-east-1");
        env.put("CONNECT_INSTANCE_ARN", "arn:aws:connect:eu-central-1:123456789012:instance/00000000-0000-4000-8000-000000000001");
        env.put("SESSIONS_TABLE", "t");
        env.put("EVENT_BUS_NAME", "b");
        AwsClients.Target target = AwsClients.Target.fromLambdaEnvironment(BackstopConfig.fromEnvironment(env), env);

        assertThat(target.region()).isEqualTo(Region.US_EAST_1);
        assertThat(target.connectRegion()).isEqualTo(Region.EU_CENTRAL_1);
        assertThat(target.credentials()).isInstanceOf(ContainerCredentialsProvider.class);
        assertThat(target.awsEndpoint()).isEmpty();
        assertThat(target.connectEndpoint()).isEmpty();
    }
}
