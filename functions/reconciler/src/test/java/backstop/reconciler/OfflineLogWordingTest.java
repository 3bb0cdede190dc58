package backstop.reconciler;

import backstop.core.agent.AgentRef;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.connect.ConnectPacer;
import backstop.core.connect.ScriptedConnect;
import backstop.core.events.BatchingEventPublisher;
import backstop.core.session.SessionId;
import backstop.core.transition.Backoff;
import backstop.core.transition.OfflineTransitions;
import backstop.core.transition.Transition;
import backstop.core.transition.TransitionReason;
import backstop.core.transition.TransitionState;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The "set Offline" log line, word for word: template.yaml's metric filters (TabClosedTransitions,
 * StaleSessionTransitions, RetryTransitions) count transitions by reason from it, and on-call reads the rest
 * (deferred to the next status, recovered after failing). Through the reconciler's own logging (log4j).
 */
class OfflineLogWordingTest {
    final List<String> lines = new CopyOnWriteArrayList<>();
    final AbstractAppender capture = new AbstractAppender("offline-wording", null, null, true, Property.EMPTY_ARRAY) {
        @Override
        public void append(LogEvent event) {
            lines.add(event.getMessage().getFormattedMessage());
        }
    };
    final DueTransitionSweepTest.MemoryQueue queue = new DueTransitionSweepTest.MemoryQueue();

    @BeforeEach
    void attach() {
        capture.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getLoggerConfig("backstop.core.transition.OfflineTransitions").addAppender(capture, null, null);
        context.updateLoggers();
    }

    @AfterEach
    void detach() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getLoggerConfig("backstop.core.transition.OfflineTransitions").removeAppender(capture.getName());
        context.updateLoggers();
        capture.stop();
    }

    OfflineTransitions transitions() {
        ConnectAgentStatus gateway = new ConnectAgentStatus(new ScriptedConnect(), DueTransitionSweepTest.INSTANCE, new ConnectPacer(100));
        return new OfflineTransitions(queue, gateway, new BatchingEventPublisher(events -> { }),
                Clock.fixed(DueTransitionSweepTest.NOW, ZoneOffset.UTC), Backoff.DEFAULT, 8, new Random(1));
    }

    Transition transition(TransitionReason reason, TransitionState state, int attempts) {
        Transition transition = new Transition(new SessionId("wordingSession00000000"), new AgentRef(DueTransitionSweepTest.INSTANCE, "u-1"), reason,
                state, attempts, DueTransitionSweepTest.NOW.minusSeconds(60), DueTransitionSweepTest.NOW, Optional.of("claim"),
                Optional.empty(), Optional.empty(), false, false);
        queue.due(transition);
        return transition;
    }

    @Test
    void aFirstAttempt_should_sayItsReason_andNothingElse() {
        transitions().attempt(transition(TransitionReason.STALE_SESSION, TransitionState.PENDING, 0), "claim", Optional.of(false));

        assertThat(lines).contains("agent u-1 set Offline (session wordingSession00000000, stale-session, attempt 1)");
    }

    @Test
    void aDeferredRecoveredRetry_should_sayRetry_andBothFacts_inThatOrder() {
        transitions().attempt(transition(TransitionReason.TAB_CLOSED, TransitionState.FAILED, 8), "claim", Optional.of(true));

        assertThat(lines).contains("agent u-1 set Offline (session wordingSession00000000, retry, attempt 9,"
                + " as next status after the live contact, recovered after failing)");
    }
}
