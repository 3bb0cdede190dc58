package backstop.core.connect;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A token bucket: {@code ratePerSecond} tokens a second, at most {@code burst} saved up.
 * Connect's quota is such a bucket per account and operation (2 rps, burst 5), so the emulator enforces
 * one with {@link #tryAcquire()} and the reconciler paces itself under one with {@link #acquire()}.
 */
public final class TokenBucket {
    private final double ratePerNano;
    private final double burst;
    private final LongSupplier nanoTime;
    private final Sleeper sleeper;
    private double tokens;
    private long last;

    /** How the bucket waits: the real one sleeps; a test's moves its clock on. */
    @FunctionalInterface
    public interface Sleeper {
        Sleeper REAL = TimeUnit.NANOSECONDS::sleep;

        void sleep(long nanos) throws InterruptedException;
    }

    public TokenBucket(double ratePerSecond, int burst) {
        this(ratePerSecond, burst, System::nanoTime, Sleeper.REAL);
    }

    public TokenBucket(double ratePerSecond, int burst, LongSupplier nanoTime) {
        this(ratePerSecond, burst, nanoTime, Sleeper.REAL);
    }

    public TokenBucket(double ratePerSecond, int burst, LongSupplier nanoTime, Sleeper sleeper) {
        if (!(ratePerSecond > 0) || burst < 1) {
            throw new IllegalArgumentException("rate must be > 0 and burst >= 1, got " + ratePerSecond + "/" + burst);
        }
        this.ratePerNano = ratePerSecond / TimeUnit.SECONDS.toNanos(1);
        this.burst = burst;
        this.nanoTime = nanoTime;
        this.sleeper = sleeper;
        this.tokens = burst;
        this.last = nanoTime.getAsLong();
    }

    /** Takes a token if one is there; never waits. */
    public synchronized boolean tryAcquire() {
        refill();
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }

    /** Nanoseconds until a token is there (0 when one is there now). */
    public synchronized long nanosUntilToken() {
        refill();
        return tokens >= 1 ? 0 : (long) Math.ceil((1 - tokens) / ratePerNano);
    }

    /**
     * Waits for a token, but only if one comes within {@code maxWaitNanos}: false (nothing taken, no wait) when
     * the next token would come later. The reconciler dispatches no call that could go out after its budget.
     */
    public boolean acquireWithin(long maxWaitNanos) throws InterruptedException {
        long deadline = nanoTime.getAsLong() + maxWaitNanos;
        while (true) {
            long wait;
            synchronized (this) {
                refill();
                if (tokens >= 1) {
                    tokens -= 1;
                    return true;
                }
                wait = (long) Math.ceil((1 - tokens) / ratePerNano);
            }
            if (nanoTime.getAsLong() + wait > deadline) {
                return false;
            }
            sleeper.sleep(Math.max(wait, 100_000));
        }
    }

    /** Waits for a token. */
    public void acquire() throws InterruptedException {
        while (!tryAcquire()) {
            sleeper.sleep(Math.max(nanosUntilToken(), 100_000));
        }
    }

    private void refill() {
        long now = nanoTime.getAsLong();
        tokens = Math.min(burst, tokens + (now - last) * ratePerNano);
        last = now;
    }
}
