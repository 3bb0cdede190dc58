package backstop.core.aws;

import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ContainerCredentialsProvider;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;

import java.util.Map;

/**
 * The function role's credentials, exactly where Lambda's Java runtime puts them. With SnapStart on, the runtime
 * serves them from a local endpoint named by {@code AWS_CONTAINER_CREDENTIALS_FULL_URI}, with
 * {@code AWS_CONTAINER_AUTHORIZATION_TOKEN} as the request's Authorization header, and sets no access-key variables
 * (Lambda developer guide, "Activating and managing Lambda SnapStart", credentials); without SnapStart it sets
 * {@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY} and {@code AWS_SESSION_TOKEN}. The provider is chosen once
 * from the environment, so no call probes a chain of providers; the container provider caches what it fetched and
 * fetches again when it nears expiry (a snapshot restored hours later refreshes on its first call).
 */
public final class LambdaCredentials {
    static final String FULL_URI = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
    static final String AUTHORIZATION_TOKEN = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
    static final String ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID";
    static final String SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY";

    /** Where the credentials come from, as the environment says. */
    public enum Source {
        /** SnapStart: the runtime's container credentials endpoint. */
        CONTAINER,
        /** On-demand functions: the access-key variables. */
        ENVIRONMENT
    }

    private LambdaCredentials() {
    }

    /** Which source {@code env} offers; a function with neither cannot call AWS, so it does not start. */
    public static Source source(Map<String, String> env) {
        if (present(env, FULL_URI)) {
            if (!present(env, AUTHORIZATION_TOKEN)) {
                throw new IllegalStateException("Invalid configuration: " + FULL_URI + " is set but "
                        + AUTHORIZATION_TOKEN + " is not; Lambda sets both under SnapStart");
            }
            return Source.CONTAINER;
        }
        if (present(env, ACCESS_KEY_ID) && present(env, SECRET_ACCESS_KEY)) {
            return Source.ENVIRONMENT;
        }
        throw new IllegalStateException("Invalid configuration: no credentials in the environment: neither " + FULL_URI
                + " (SnapStart) nor " + ACCESS_KEY_ID + " and " + SECRET_ACCESS_KEY + " are set");
    }

    /** The provider for {@code env}'s source; each reads the process environment itself when it resolves. */
    public static AwsCredentialsProvider from(Map<String, String> env) {
        return switch (source(env)) {
            case CONTAINER -> ContainerCredentialsProvider.builder().build();
            case ENVIRONMENT -> EnvironmentVariableCredentialsProvider.create();
        };
    }

    private static boolean present(Map<String, String> env, String name) {
        String value = env.get(name);
        return value != null && !value.isBlank();
    }
}
