package backstop.core.connect;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Keeps our own Connect calls under a rate, one token bucket per operation (Connect's quotas are per
 * operation, per account and Region: 2 requests/s with a burst of 5 for PutUserStatus and GetCurrentUserData).
 * Our burst is Connect's (2.5 x the rate) less a tenth (at least one token): calls granted on time can still
 * arrive bunched up (scheduling, connection set-up), and the tokens we leave in Connect's bucket absorb that
 * instead of a 429.
 */
public final class ConnectPacer implements ConnectBudget {
    /** No pacing: the beacon makes one call per close, from many concurrent Lambdas; pacing it locally means nothing. */
    public static final ConnectPacer NONE = new ConnectPacer(0);

    private final double ratePerSecond;
    private final LongSupplier nanoTime;
    private final TokenBucket.Sleeper sleeper;
    private final Map<String, TokenBucket> buckets = new ConcurrentHashMap<>();

    public ConnectPacer(double ratePerSecond) {
        this(ratePerSecond, System::nanoTime, TokenBucket.Sleeper.REAL);
    }

    /** On a given clock and way of waiting (tests move a clock instead of sleeping). */
    public ConnectPacer(double ratePerSecond, LongSupplier nanoTime, TokenBucket.Sleeper sleeper) {
        this.ratePerSecond = ratePerSecond;
        this.nanoTime = nanoTime;
        this.sleeper = sleeper;
    }

    public static int burstFor(double ratePerSecond) {
        int connectBurst = (int) Math.floor(ratePerSecond * 2.5);
        return Math.max(1, connectBurst - Math.max(1, (int) Math.ceil(connectBurst / 10.0)));
    }

    /**
     * Waits until a call of {@code operation} fits under the rate, if that is within {@code maxWait}; false otherwise,
     * and false at once when {@code maxWait} is negative, even with a token there.
     */
    @Override
    public boolean acquireWithin(String operation, java.time.Duration maxWait) throws InterruptedException {
        if (ratePerSecond <= 0) {
            return true;
        }
        if (maxWait.isNegative()) {
            return false; // the time it had to wait in is already spent (a slow check ate the budget): no turn
        }
        return bucket(operation).acquireWithin(maxWait.toNanos());
    }

    private TokenBucket bucket(String operation) {
        return buckets.computeIfAbsent(operation, op -> new TokenBucket(ratePerSecond, burstFor(ratePerSecond), nanoTime, sleeper));
    }

    /** Waits until a call of {@code operation} fits under the rate. */
    @Override
    public void acquire(String operation) throws InterruptedException {
        if (ratePerSecond <= 0) {
            return;
        }
        bucket(operation).acquire();
    }
}
