package backstop.core.connect;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

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
}
