package backstop.core.connect;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps our own Connect calls under a rate, one token bucket per operation (Connect's quotas are per
 * operation, per account and Region: 2 requests/s with a burst of 5 for PutUserStatus and GetCurrentUserData).
 * Our burst is Connect's (2.5 x the rate) less a tenth (at least one token): calls granted on time can still
 * arrive bunched up (scheduling, connection set-up), and the tokens we leave in Connect's bucket absorb that
 * instead of a 429.
 */
public final class ConnectPacer {
    /** No pacing: the beacon makes one call per close, from many concurrent Lambdas; pacing it locally means nothing. */
    public static final ConnectPacer NONE = new ConnectPacer(0);

    private final double ratePerSecond;
    private final Map<String, TokenBucket> buckets = new ConcurrentHashMap<>();

    public ConnectPacer(double ratePerSecond) {
        this.ratePerSecond = ratePerSecond;
    }

    public static int burstFor(double ratePerSecond) {
        int connectBurst = (int) Math.floor(ratePerSecond * 2.5);
        return Math.max(1, connectBurst - Math.max(1, (int) Math.ceil(connectBurst / 10.0)));
    }

    /** Waits until a call of {@code operation} fits under the rate, if that is within {@code maxWait}; false otherwise. */
    public boolean acquireWithin(String operation, java.time.Duration maxWait) throws InterruptedException {
        if (ratePerSecond <= 0) {
            return true;
        }
        return bucket(operation).acquireWithin(Math.max(0, maxWait.toNanos()));
    }

    private TokenBucket bucket(String operation) {
        return buckets.computeIfAbsent(operation, op -> new TokenBucket(ratePerSecond, burstFor(ratePerSecond)));
    }

    /** Waits until a call of {@code operation} fits under the rate. */
    public void acquire(String operation) throws InterruptedException {
        if (ratePerSecond <= 0) {
            return;
        }
        bucket(operation).acquire();
    }
}
