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

    /** Two restored copies of one snapshot: the same generator state in both, as SnapStart hands it out. */
    static RestoreSafeRandom restoredCopy() throws Exception {
        java.security.SecureRandom snapshotState = java.security.SecureRandom.getInstance("SHA1PRNG");
        snapshotState.setSeed(20261129L); // seeded before the snapshot: every copy continues from here
        return new RestoreSafeRandom(snapshotState);
    }

    @Test
    void restoredCopies_should_handOutTheSameValues_untilReseeded_andDifferentOnesAfter() throws Exception {
        RestoreSafeRandom first = restoredCopy();
        RestoreSafeRandom second = restoredCopy();
        assertThat(first.claim()).as("the hazard: copies of one state agree").isEqualTo(second.claim());

        first.reseed(); // afterRestore, in each copy
        second.reseed();

        Set<String> claims = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            claims.add(first.claim());
            claims.add(second.claim());
        }
        assertThat(claims).as("no value handed out by both copies").hasSize(200);
    }

    @Test
    void everyCall_should_goToTheCurrentGenerator_seedsIncluded() throws Exception {
        java.security.SecureRandom twin = java.security.SecureRandom.getInstance("SHA1PRNG");
        twin.setSeed(20261129L);
        RestoreSafeRandom random = restoredCopy();
        random.setSeed(42L);
        twin.setSeed(42L);
        random.setSeed(new byte[] {1, 2, 3});
        twin.setSeed(new byte[] {1, 2, 3});
        byte[] ours = new byte[32];
        byte[] theirs = new byte[32];
        random.nextBytes(ours);
        twin.nextBytes(theirs);
        assertThat(ours).as("the same seeds reached the generator").isEqualTo(theirs);

        assertThat(random.getAlgorithm()).isEqualTo("SHA1PRNG");
        assertThat(random).hasToString("RestoreSafeRandom[SHA1PRNG]");
        assertThat(random.generateSeed(16)).hasSize(16);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> random.nextBytes(new byte[4],
                java.security.DrbgParameters.nextBytes(128, false, null)))
                .as("SHA1PRNG takes no parameters: the call reached it").isInstanceOf(UnsupportedOperationException.class);
    }
}
