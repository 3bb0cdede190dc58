package backstop.core.random;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class RestoreSafeRandomTest {

    @Test
    void claim_should_be128UrlSafeBits_andUnique() {
        RestoreSafeRandom random = new RestoreSafeRandom();
        Set<String> claims = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            claims.add(random.claim());
        }
        assertThat(claims).hasSize(10_000).allSatisfy(c -> assertThat(c).matches("[A-Za-z0-9_-]{22}"));
    }

    @Test
    void reseed_should_replaceTheGenerator_soRestoredCopiesDoNotShareItsState() throws Exception {
        RestoreSafeRandom random = new RestoreSafeRandom();
        var field = RestoreSafeRandom.class.getDeclaredField("current");
        field.setAccessible(true);
        Object before = field.get(random);

        random.reseed();

        assertThat(field.get(random)).isNotSameAs(before);
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        assertThat(bytes).isNotEqualTo(new byte[32]);
    }
}
