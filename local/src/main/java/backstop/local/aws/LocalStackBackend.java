package backstop.local.aws;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.localstack.LocalStackContainer;
import org.testcontainers.utility.DockerImageName;

import java.nio.file.Files;
import java.nio.file.Path;

/** LocalStack in a container, for machines with a Docker engine (none here: moto serves instead). */
final class LocalStackBackend {
    static final String IMAGE = "localstack/localstack:4.9";

    private LocalStackBackend() {
    }

    static boolean dockerAnswers() {
        String host = System.getenv("DOCKER_HOST");
        if ((host == null || host.isBlank()) && !Files.exists(Path.of("/var/run/docker.sock"))) {
            return false; // skip Testcontainers' slower probe when there is plainly no engine
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            return false;
        }
    }

    @SuppressWarnings("resource") // stopped by the returned emulation
    static AwsEmulation start() {
        LocalStackContainer container = new LocalStackContainer(DockerImageName.parse(IMAGE))
                .withServices("dynamodb", "events", "sqs", "sns", "cloudwatch");
        container.start();
        return AwsEmulation.of("localstack", container.getEndpoint(), container::stop);
    }
}
