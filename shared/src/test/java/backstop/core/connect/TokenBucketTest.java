package backstop.core.connect;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenBucketTest {
    final AtomicLong nanos = new AtomicLong();

    @Test
    void tryAcquire_should_allowBurstThenRate_when_timeIsControlled() {
        TokenBucket bucket = new TokenBucket(2, 5, nanos::get);

        for (int i = 0; i < 5; i++) {
            assertThat(bucket.tryAcquire()).isTrue();
        }
        assertThat(bucket.tryAcquire()).isFalse();
        assertThat(bucket.nanosUntilToken()).isEqualTo(500_000_000L);

        nanos.addAndGet(499_000_000L);
        assertThat(bucket.tryAcquire()).isFalse();
        nanos.addAndGet(1_000_000L);
        assertThat(bucket.tryAcquire()).isTrue();

        nanos.addAndGet(60_000_000_000L); // a long idle refills only up to the burst
        int granted = 0;
        while (bucket.tryAcquire()) {
            granted++;
        }
        assertThat(granted).isEqualTo(5);
    }

    /** Sleeping moves the clock on: waits take no real time and are counted exactly. */
    final List<Long> slept = new ArrayList<>();
    final TokenBucket.Sleeper sleeper = n -> {
        slept.add(n);
        nanos.addAndGet(n);
    };

    @Test
    void acquireWithin_should_waitForTheNextToken_onlyWhenItComesWithinTheWait() throws InterruptedException {
        TokenBucket bucket = new TokenBucket(2, 2, nanos::get, sleeper);
        assertThat(bucket.acquireWithin(0)).isTrue();
        assertThat(bucket.acquireWithin(0)).isTrue();
        assertThat(slept).isEmpty();

        assertThat(bucket.acquireWithin(499_999_999L)).as("the next token is 500 ms away").isFalse();
        assertThat(slept).as("refused without waiting").isEmpty();
        assertThat(nanos.get()).isZero();

        assertThat(bucket.acquireWithin(500_000_000L)).as("exactly within the wait").isTrue();
        assertThat(slept).containsExactly(500_000_000L);
        assertThat(bucket.nanosUntilToken()).isEqualTo(500_000_000L);
    }

    @Test
    void acquire_should_waitExactlyUntilTheNextToken_atTheRate() throws InterruptedException {
        TokenBucket bucket = new TokenBucket(4, 1, nanos::get, sleeper);
        for (int i = 0; i < 5; i++) {
            bucket.acquire();
        }
        assertThat(slept).containsExactly(250_000_000L, 250_000_000L, 250_000_000L, 250_000_000L);
        assertThat(nanos.get()).isEqualTo(1_000_000_000L);
    }

    @Test
    void waits_should_beAtLeastATenthOfAMillisecond_soABucketAlmostFullIsNotSpunOn() throws InterruptedException {
        TokenBucket bucket = new TokenBucket(2, 1, nanos::get, sleeper);
        bucket.acquire();
        nanos.addAndGet(499_990_000L); // 10 microseconds short of the next token
        bucket.acquire();
        assertThat(slept).containsExactly(100_000L);
        assertThat(bucket.acquireWithin(1_000_000_000L)).isTrue();
        assertThat(slept).as("the bucket of one was capped full: a whole interval").containsExactly(100_000L, 500_000_000L);
    }

    @Test
    void aBucket_should_refuseANonPositiveRateOrAnEmptyBurst() {
        assertThatThrownBy(() -> new TokenBucket(0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TokenBucket(Double.NaN, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TokenBucket(2, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("rate must be > 0 and burst >= 1, got 2.0/0");
        assertThat(new TokenBucket(0.1, 1, nanos::get).tryAcquire()).as("burst 1 and a slow rate are fine").isTrue();
    }

    @Test
    void connectPacer_should_keepATenthOfConnectsBurstInReserve() {
        assertThat(ConnectPacer.burstFor(2)).as("Connect's 5 less 1").isEqualTo(4);
        assertThat(ConnectPacer.burstFor(10)).as("Connect's 25 less 3").isEqualTo(22);
        assertThat(ConnectPacer.burstFor(0.5)).as("never below one").isEqualTo(1);
        assertThat(ConnectPacer.burstFor(100)).isEqualTo(225);
    }

    @Test
    void connectPacer_should_paceEachOperationOnItsOwnBucket_andNotAtAllAtRateZero() throws InterruptedException {
        ConnectPacer pacer = new ConnectPacer(2, nanos::get, sleeper);
        assertThat(pacer.acquireWithin("PutUserStatus", java.time.Duration.ofNanos(-1))).as("a budget already spent, tokens or not").isFalse();
        for (int i = 0; i < 4; i++) {
            assertThat(pacer.acquireWithin("PutUserStatus", java.time.Duration.ZERO)).isTrue();
        }
        assertThat(pacer.acquireWithin("PutUserStatus", java.time.Duration.ofMillis(499))).isFalse();
        pacer.acquire("GetCurrentUserData");
        assertThat(slept).as("another operation has its own burst").isEmpty();
        for (int i = 0; i < 4; i++) {
            pacer.acquire("DescribeUser");
        }
        pacer.acquire("DescribeUser");
        assertThat(slept).containsExactly(500_000_000L);

        ConnectPacer none = new ConnectPacer(0, nanos::get, sleeper);
        for (int i = 0; i < 100; i++) {
            assertThat(none.acquireWithin("PutUserStatus", java.time.Duration.ZERO)).isTrue();
            none.acquire("PutUserStatus");
        }
        assertThat(slept).hasSize(1);
    }
}
