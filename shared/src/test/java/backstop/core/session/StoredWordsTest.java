package backstop.core.session;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;
import backstop.core.agent.InstanceRef;
import backstop.core.transition.OfflineOutcome;
import backstop.core.transition.TransitionReason;
import backstop.core.transition.TransitionState;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The words the table stores and the beacon reads (docs/design: the state model): each one reads back as what it
 * was written from, an unknown one is refused by name, and the key shapes stay what the table's items hold.
 */
class StoredWordsTest {
    @Test
    void everyStoredWord_should_readBackAsItsValue_andAnUnknownOneBeRefused() {
        Arrays.stream(CloseReason.values()).forEach(r -> assertThat(CloseReason.parse(r.value())).isEqualTo(r));
        Arrays.stream(TransitionReason.values()).forEach(r -> assertThat(TransitionReason.parse(r.value())).isEqualTo(r));
        Arrays.stream(OfflineOutcome.values()).forEach(o -> assertThat(OfflineOutcome.parse(o.value())).isEqualTo(o));
        assertThat(CloseReason.STALE.value()).isEqualTo("stale");
        assertThatThrownBy(() -> CloseReason.parse("crashed")).hasMessage("unknown close reason crashed");
        assertThatThrownBy(() -> TransitionReason.parse("crashed")).hasMessage("unknown transition reason crashed");
        assertThatThrownBy(() -> OfflineOutcome.parse("maybe")).hasMessage("unknown outcome maybe");
    }

    @Test
    void aBeaconsReason_should_beALogoutOnlyWhenItSaysSo_andAClosedTabOtherwise() {
        assertThat(CloseReason.fromBeacon("logout")).isEqualTo(CloseReason.LOGOUT);
        assertThat(CloseReason.fromBeacon("pagehide")).isEqualTo(CloseReason.TAB_CLOSED);
        assertThat(CloseReason.fromBeacon("replaced")).isEqualTo(CloseReason.REPLACED);
        assertThat(CloseReason.fromBeacon("unload-from-an-older-page")).isEqualTo(CloseReason.TAB_CLOSED);
    }

    @Test
    void onlyPending_should_beUnfinished() {
        assertThat(Arrays.stream(TransitionState.values()).filter(s -> !s.isFinal())).containsExactly(TransitionState.PENDING);
    }

    @Test
    void keys_should_haveTheShapesTheTableHolds() {
        SessionId id = new SessionId("0123456789abcdefghijkl");
        assertThat(TableLayout.sessionPk(id)).isEqualTo("SESSION#0123456789abcdefghijkl");
        assertThat(TableLayout.transitionPk(id)).isEqualTo("TRANSITION#0123456789abcdefghijkl");
        assertThat(TableLayout.agentPk(new AgentRef(InstanceRef.parseArn("arn:aws:connect:eu-west-2:123456789012:instance/i-1"), "u-1")))
                .isEqualTo("AGENT#i-1#u-1");
        assertThat(TableLayout.openShard(7)).isEqualTo("OPEN#7");
        assertThat(TableLayout.dueShard(3)).isEqualTo("DUE#3");
    }

    @Test
    void aStatus_should_takeNamesAndArnsUpToTheirLimits_andNoLonger() {
        assertThat(new AgentStatus("x".repeat(AgentStatus.MAX_NAME), "a".repeat(AgentStatus.MAX_ARN)).name()).hasSize(127);
        assertThatThrownBy(() -> new AgentStatus("x".repeat(AgentStatus.MAX_NAME + 1), null)).hasMessage("status.name must be 1-127 characters");
        assertThatThrownBy(() -> new AgentStatus("Lunch", "a".repeat(AgentStatus.MAX_ARN + 1))).hasMessage("status.arn must be 1-300 characters");
        assertThatThrownBy(() -> new AgentStatus("Lunch", "")).isInstanceOf(IllegalArgumentException.class);
    }
}
