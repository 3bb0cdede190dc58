package backstop.core.snapstart;

import backstop.core.connect.ConnectFailure;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;

import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;

/**
 * One priming pass: each step's outcome, and a verdict on its failures. A <b>configuration</b> failure is one no
 * retry will fix, so the snapshot must not be published: no credentials; a refusal of who the function is (access
 * denied, an unrecognised or invalid signature or token: any 403, and DynamoDB's 400 AccessDenied and
 * UnrecognizedClient); a table or Connect instance that is not where the client looks (ResourceNotFound); an
 * instance without an OFFLINE-type status; a host name that does not resolve (a wrong endpoint or Region). Every
 * other failure (throttling, a 5xx, a time-out, a dropped connection, any other 4xx such as a ValidationException)
 * is logged and tolerated: the snapshot is only slower on its first request. The set is narrow on purpose: Lambda
 * also takes snapshots again on its own (a runtime update, a version gone Inactive), and a version whose
 * snapshot fails stops serving, so only what cannot work at all may fail it.
 * <p>
 * A configuration failure is given {@link Patience} before it counts: IAM is eventually consistent, so the first
 * priming of a new stack can be refused for a while by a role CloudFormation has only just created (IAM user guide,
 * "Changes that I make are not always immediately visible"). Every step's retries share one budget, kept well
 * inside the time Lambda gives a SnapStart init (130 s, or the function's timeout if higher, before-checkpoint
 * hooks included).
 */
public final class PrimingSteps {

    /**
     * Waits before a step's configuration failure counts, one a retry, and the most all steps together may wait.
     */
    public record Patience(List<Duration> waits, Duration budget, Sleeper sleeper) {
        /** 1, 2, 4, 8, 15, 15, 15 s: a refusal that outlasts a minute is real; 75 s for all steps together. */
        public static final Patience DEFAULT = new Patience(
                List.of(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(8),
                        Duration.ofSeconds(15), Duration.ofSeconds(15), Duration.ofSeconds(15)),
                Duration.ofSeconds(75), wait -> Thread.sleep(wait.toMillis()));
        /** No retry (tests of the verdict alone). */
        public static final Patience NONE = new Patience(List.of(), Duration.ZERO, wait -> { });

        public Patience {
            waits = List.copyOf(waits);
        }
    }

    /** Sleeps between tries (injected: tests move no clock). */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration wait) throws InterruptedException;
    }

    /** A step: what it did, in a few words. */
    @FunctionalInterface
    public interface Step {
        Object run() throws Exception;
    }

    private final Patience patience;
    private Duration waited = Duration.ZERO;
    private final List<String> outcomes = new ArrayList<>();
    private final List<String> misconfigured = new ArrayList<>();

    public PrimingSteps(Patience patience) {
        this.patience = patience;
    }

    /** Runs {@code step}; a failure is judged by {@link #isConfiguration(Throwable)}. */
    public void run(String name, Step step) {
        attempt(name, step, false);
    }

    /** Runs {@code step}, whose every failure is a configuration failure (credentials: the runtime serves them locally). */
    public void require(String name, Step step) {
        attempt(name, step, true);
    }

    private void attempt(String name, Step step, boolean everyFailureIsConfiguration) {
        for (int tries = 1; ; tries++) {
            try {
                outcomes.add(name + " -> " + step.run() + (tries > 1 ? " (try " + tries + ")" : ""));
                return;
            } catch (Exception e) {
                boolean configuration = everyFailureIsConfiguration || isConfiguration(e);
                if (!configuration || tries > patience.waits().size()
                        || waited.plus(patience.waits().get(tries - 1)).compareTo(patience.budget()) > 0) {
                    fail(name, e, configuration, tries);
                    return;
                }
                try {
                    patience.sleeper().sleep(patience.waits().get(tries - 1));
                    waited = waited.plus(patience.waits().get(tries - 1));
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    fail(name, e, true, tries);
                    return;
                }
            }
        }
    }

    /** Records a step that made no call. */
    public void note(String outcome) {
        outcomes.add(outcome);
    }

    /** What each step did, in order. */
    public List<String> outcomes() {
        return List.copyOf(outcomes);
    }

    /** The configuration failures, one line each; empty when the snapshot may be taken. */
    public List<String> misconfigured() {
        return List.copyOf(misconfigured);
    }

    private void fail(String name, Exception e, boolean configuration, int tries) {
        String outcome = name + " -> " + (configuration ? "MISCONFIGURED " : "failed, tolerated: ") + describe(e)
                + (tries > 1 ? " (" + tries + " tries)" : "");
        outcomes.add(outcome);
        if (configuration) {
            misconfigured.add(outcome);
        }
    }

    /** Error codes that say who the function is, or where it looks, cannot work (see the class comment). */
    private static final java.util.Set<String> REFUSALS = java.util.Set.of("AccessDeniedException", "AccessDenied",
            "UnrecognizedClientException", "InvalidSignatureException", "InvalidClientTokenId",
            "MissingAuthenticationTokenException", "IncompleteSignatureException", "ResourceNotFoundException");

    /** Whether {@code failure} is one that no retry will fix (see the class comment). */
    public static boolean isConfiguration(Throwable failure) {
        Throwable e = unwrap(failure);
        if (e instanceof ConnectFailure connect) {
            return !connect.retryable() || (connect.getCause() != null && isConfiguration(connect.getCause()));
        }
        if (e instanceof AwsServiceException service) {
            if (service.isThrottlingException()) {
                return false;
            }
            String code = service.awsErrorDetails() == null ? "" : String.valueOf(service.awsErrorDetails().errorCode());
            return service.statusCode() == 403 || REFUSALS.contains(code);
        }
        if (e instanceof SdkClientException) {
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof UnknownHostException) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The error's class and code; a service's message never (it may quote the request), a client error's briefly. */
    static String describe(Throwable failure) {
        Throwable e = unwrap(failure);
        if (e instanceof ConnectFailure connect) {
            return "Connect " + connect.code();
        }
        if (e instanceof AwsServiceException service) {
            String code = service.awsErrorDetails() != null ? service.awsErrorDetails().errorCode() : null;
            return (code != null ? code : e.getClass().getSimpleName()) + " (" + service.statusCode() + ")";
        }
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof UnknownHostException) {
                return "UnknownHost " + cause.getMessage();
            }
        }
        if (e instanceof SdkClientException && e.getMessage() != null) {
            String message = e.getMessage();
            return e.getClass().getSimpleName() + ": " + (message.length() > 200 ? message.substring(0, 200) + "..." : message);
        }
        return e.getClass().getSimpleName();
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable e = failure;
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
