package backstop.core.snapstart;

import backstop.core.random.RestoreSafeRandom;
import org.crac.CheckpointException;
import org.crac.Context;
import org.crac.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * A function's SnapStart hooks (CRaC; Lambda's Java runtime calls them through {@code org.crac}, which it points at
 * its own implementation with {@code -Dorg.crac.Core.Compat=com.amazonaws.services.lambda.crac}). {@link #prime()}
 * runs before the snapshot, side-effect free, so the classes and connections the first request needs are in the
 * snapshot; after every restore the random source behind ids, tokens, claims and jitter is reseeded, so restored
 * copies never share its state.
 * <p>
 * A priming whose failure no retry will fix ({@link PrimingSteps}: no credentials, access denied, a resource that
 * is not there, a wrong endpoint) fails {@link #beforeCheckpoint}: the runtime then reports an init error, Lambda
 * does not publish the version, and {@code sam deploy} stops, instead of shipping a function that fails every
 * call. A transient failure (throttling, 5xx, a time-out) is logged and the snapshot is taken anyway: it is only
 * slower on its first request.
 */
public abstract class SnapStartHooks implements Resource {
    private final Logger log = LoggerFactory.getLogger(getClass());
    private final RestoreSafeRandom random;
    private final PrimingSteps.Patience patience;

    protected SnapStartHooks(RestoreSafeRandom random) {
        this(random, PrimingSteps.Patience.DEFAULT);
    }

    /** {@code patience}: how long a configuration failure may take to clear before it counts ({@link PrimingSteps}). */
    protected SnapStartHooks(RestoreSafeRandom random, PrimingSteps.Patience patience) {
        this.random = random;
        this.patience = patience;
    }

    /** The priming's steps, each through {@code steps} (which judges their failures). */
    protected abstract void prime(PrimingSteps steps);

    /** One priming pass: what each step did (for the log and the tests); see {@link #primeChecked()} for the verdict. */
    public List<String> prime() {
        PrimingSteps steps = new PrimingSteps(patience);
        prime(steps);
        return steps.outcomes();
    }

    /**
     * One priming pass, judged: its outcomes, or a {@link CheckpointException} naming every configuration failure.
     */
    public List<String> primeChecked() throws CheckpointException {
        PrimingSteps steps = new PrimingSteps(patience);
        prime(steps);
        if (!steps.misconfigured().isEmpty()) {
            log.error("Priming failed before the snapshot: a configuration no retry will fix, so this version must not "
                    + "be published: {}", steps.misconfigured());
            throw new CheckpointException("Priming failed: " + String.join("; ", steps.misconfigured()));
        }
        return steps.outcomes();
    }

    @Override
    public void beforeCheckpoint(Context<? extends Resource> context) throws CheckpointException {
        log.info("priming before the snapshot: {}", primeChecked());
    }

    @Override
    public void afterRestore(Context<? extends Resource> context) {
        random.reseed();
        log.info("restored from the snapshot: random source reseeded");
    }
}
