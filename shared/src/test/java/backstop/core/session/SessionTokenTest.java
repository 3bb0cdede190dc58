package backstop.core.session;

import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SessionTokenTest {
    final SecureRandom random = new SecureRandom();

    @Test
    void random_should_be256BitUrlSafeAndUnique_when_generated() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String token = SessionToken.random(random).reveal();
            assertThat(token).matches("[A-Za-z0-9_-]{43}");
            seen.add(token);
        }
        assertThat(seen).hasSize(1000);
    }

    @Test
    void matches_should_acceptOnlyItsOwnHash_when_compared() {
        SessionToken token = SessionToken.random(random);
        SessionToken other = SessionToken.random(random);

        assertThat(token.matches(token.hash())).isTrue();
        assertThat(token.matches(other.hash())).isFalse();
        assertThat(token.matches(null)).isFalse();
        assertThat(SessionToken.parse(token.reveal()).matches(token.hash())).isTrue();
    }

    @Test
    void toString_should_neverRevealTheToken() {
        SessionToken token = SessionToken.random(random);

        assertThat(token.toString()).doesNotContain(token.reveal()).isEqualTo("SessionToken[redacted]");
    }

    @Test
    void parse_should_refuse_when_malformed() {
        assertThatThrownBy(() -> SessionToken.parse("short")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SessionToken.parse("+".repeat(43))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SessionToken.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sessionId_should_be22UrlSafeCharacters_when_random() {
        assertThat(SessionId.random(random).value()).matches("[A-Za-z0-9_-]{22}");
        assertThat(SessionId.isWellFormed("../../etc/passwd")).isFalse();
    }
}
