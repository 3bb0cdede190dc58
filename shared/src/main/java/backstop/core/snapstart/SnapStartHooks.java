package backstop.core.snapstart;

import backstop.core.random.RestoreSafeRandom;
import org.crac.Context;
import org.crac.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * A function's SnapStart hooks (CRaC): {@link #prime()} runs before the snapshot, side-effect free, so the
 * classes and connections the first request needs are in the snapshot; after every restore the random source
 * behind ids, tokens, claims and jitter is reseeded, so restored copies never share its state. A priming that
 * fails is logged and the snapshot is taken anyway (it is only slower).
 */
public abstract class SnapStartHooks implements Resource {
    private final Logger log = LoggerFactory.getLogger(getClass());
    private final RestoreSafeRandom random;

    protected SnapStartHooks(RestoreSafeRandom random) {
        this.random = random;
    }

    /** One priming pass; what each step did (for the log and the tests). */
    public abstract List<String> prime();

    @Override
    public void beforeCheckpoint(Context<? extends Resource> context) {
        try {
            log.info("priming before the snapshot: {}", prime());
        } catch (RuntimeException e) {
            log.warn("priming before the snapshot failed: {}", e.toString());
        }
    }

    @Override
    public void afterRestore(Context<? extends Resource> context) {
        random.reseed();
        log.info("restored from the snapshot: random source reseeded");
    }
}
