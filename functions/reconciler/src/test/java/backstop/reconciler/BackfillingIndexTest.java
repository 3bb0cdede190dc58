package backstop.reconciler;

import backstop.core.connect.ConnectAgentStatus;
import backstop.core.connect.ConnectPacer;
import backstop.core.connect.ScriptedConnect;
import backstop.core.events.BatchingEventPublisher;
import backstop.core.events.EventOutbox;
import backstop.core.events.OutboxRelay;
import backstop.core.random.RestoreSafeRandom;
import backstop.core.session.CloseResult;
import backstop.core.session.Exemption;
import backstop.core.session.IndexBackfilling;
import backstop.core.session.TableLayout;
import backstop.core.transition.Backoff;
import backstop.core.transition.OfflineOutcome;
import backstop.core.transition.OfflineTransitions;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A deploy added one of the sparse indexes and DynamoDB is still filling it: every query on it is refused until
 * it is ACTIVE. Whole runs on a hand-moved clock, in-memory stores and a scripted Connect: the sweep that needs
 * the index is skipped and counted, one warning a run says which index and what waits, the other sweep goes on,
 * the run ends normally; once the index answers, what waited is done as usual.
 */
class BackfillingIndexTest {
    static final String CRASHED = "crashed-tab";
    static final String DUE = "due-agent";

    final ReconcilerLoopTest.StepClock clock = new ReconcilerLoopTest.StepClock();
    final StaleSessionSweepTest.StaleStore sessions = new StaleSessionSweepTest.StaleStore();
    final DueTransitionSweepTest.MemoryQueue queue = new DueTransitionSweepTest.MemoryQueue();
    final ScriptedConnect connect = new ScriptedConnect();
    final DueTransitionSweepTest.RecordingMetrics metrics = new DueTransitionSweepTest.RecordingMetrics();
    final List<String> warnings = new CopyOnWriteArrayList<>();
    final AbstractAppender capture = new AbstractAppender("backfilling-warnings", null, null, true, Property.EMPTY_ARRAY) {
        @Override
        public void append(LogEvent event) {
            if (event.getLevel().isMoreSpecificThan(Level.WARN) && event.getLoggerName().startsWith("backstop.reconciler")) {
                warnings.add(event.getMessage().getFormattedMessage());
            }
        }
    };

    @BeforeEach
    void given_aCrashedTabAndADueTransition() {
        clock.now = StaleSessionSweepTest.NOW;
        capture.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getLoggerConfig(Reconciler.class.getName()).addAppender(capture, null, null);
        context.updateLoggers();
        // Heartbeats stopped 100 s ago (stale after 75 s); another agent's Offline is due since a second ago.
        sessions.add(StaleSessionSweepTest.stale(CRASHED, Exemption.NOT_EXEMPT));
        sessions.answers.put(CRASHED, new CloseResult.Closed(OfflineOutcome.PENDING, Optional.empty()));
        queue.due(DueTransitionSweepTest.due(DUE, 1));
    }

    @AfterEach
    void detach() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getLoggerConfig(Reconciler.class.getName()).removeAppender(capture.getName());
        context.updateLoggers();
        capture.stop();
    }

    Reconciler reconciler() {
        ConnectAgentStatus gateway = new ConnectAgentStatus(connect, DueTransitionSweepTest.INSTANCE, new ConnectPacer(100));
        BatchingEventPublisher events = new BatchingEventPublisher(list -> { });
        OfflineTransitions transitions = new OfflineTransitions(queue, gateway, events, clock, Backoff.DEFAULT, 8, new Random(1));
        return new Reconciler(queue, new StaleSessionSweep(sessions, StaleSessionSweepTest.STALE_AFTER),
                new DueTransitionSweep(queue, queue, gateway, transitions, events, metrics, clock, 100),
                new OutboxRelay(EventOutbox.NONE, null, clock), metrics, clock, wake -> clock.now = wake, Duration.ofSeconds(15), 100);
    }

    /** One scheduled run as the handler makes it: 49 s of budget from now. */
    Reconciler.Summary run(Reconciler reconciler) {
        return reconciler.run(clock.now.plusSeconds(49));
    }

    void openIndexBackfilling(boolean backfilling) {
        sessions.listingFailure = backfilling ? new IndexBackfilling(TableLayout.OPEN_SESSIONS_INDEX, null) : null;
    }

    List<String> puts() {
        return connect.puts.stream().map(p -> p.userId()).toList();
    }

    long skips() {
        return metrics.seen.stream().filter("skipped: index backfilling"::equals).count();
    }

    @Test
    void run_should_skipEveryStaleSweep_countEach_warnOnce_andStillSetDueAgentsOffline_while_theOpenIndexBackfills() {
        openIndexBackfilling(true);

        Reconciler.Summary summary = run(reconciler());

        assertThat(summary.sweeps()).as("at 0, 15, 30 and 45 s, each tried and skipped").isEqualTo(4);
        assertThat(summary.staleClosed()).isZero();
        assertThat(summary.idle()).as("it cannot tell nothing is open").isFalse();
        assertThat(sessions.closes).isEmpty();
        assertThat(skips()).as("one a skipped sweep").isEqualTo(4);
        assertThat(warnings).singleElement().satisfies(line -> assertThat(line)
                .startsWith("index OpenSessionsByShard is still backfilling")
                .contains("no stale session is found or closed"));
        assertThat(summary.transitionsClaimed()).as("the due index answers: its work goes on").isEqualTo(1);
        assertThat(puts()).containsExactly(DUE);
        assertThat(queue.completed).containsExactly(DUE + " DONE");
        assertThat(metrics.seen).as("the backlog is counted: due at the first sweep, done by the second")
                .contains("backlog 1", "backlog 0").endsWith("flush");
    }

    @Test
    void theNextRun_should_closeTheSessionThatWentStaleMeanwhile_once_theOpenIndexAnswers() {
        openIndexBackfilling(true);
        Reconciler reconciler = reconciler();
        run(reconciler);
        warnings.clear();
        metrics.seen.clear();

        openIndexBackfilling(false);
        clock.now = clock.now.plusSeconds(11); // the next minute's run
        Reconciler.Summary summary = run(reconciler);

        assertThat(summary.staleClosed()).isEqualTo(1);
        assertThat(sessions.closes).singleElement().satisfies(close ->
                assertThat(close.onlyIfLastSeenBefore()).as("closed as stale, under the lastSeen condition").isPresent());
        assertThat(skips()).isZero();
        assertThat(warnings).isEmpty();
    }

    @Test
    void run_should_skipEveryDuePass_countEach_warnOnce_andStillCloseStaleSessions_while_theDueIndexBackfills() {
        queue.dueIndexBackfilling = true;

        Reconciler.Summary summary = run(reconciler());

        assertThat(summary.staleClosed()).as("the open index answers: stale sessions are closed").isEqualTo(1);
        assertThat(sessions.closes).hasSize(1);
        assertThat(summary.transitionsClaimed()).isZero();
        assertThat(queue.claims).isEmpty();
        assertThat(puts()).isEmpty();
        assertThat(skips()).as("one due pass a sweep interval, each skipped").isEqualTo(4);
        assertThat(metrics.seen).as("no backlog is reported while it cannot be counted").noneMatch(m -> m.startsWith("backlog"));
        assertThat(warnings).singleElement().satisfies(line -> assertThat(line)
                .startsWith("index PendingTransitionsByDue is still backfilling")
                .contains("no due Offline transition is worked"));
        assertThat(metrics.seen).endsWith("flush");
    }

    @Test
    void theNextRun_should_setTheWaitingAgentOffline_once_theDueIndexAnswers() {
        queue.dueIndexBackfilling = true;
        Reconciler reconciler = reconciler();
        run(reconciler);
        warnings.clear();

        queue.dueIndexBackfilling = false;
        clock.now = clock.now.plusSeconds(11);
        Reconciler.Summary summary = run(reconciler);

        assertThat(summary.transitionsClaimed()).isEqualTo(1);
        assertThat(puts()).containsExactly(DUE);
        assertThat(queue.completed).containsExactly(DUE + " DONE");
        assertThat(warnings).isEmpty();
    }

    @Test
    void aRunWithNothingOpen_should_notEndAsIdle_while_anIndexBackfills_butShouldOnceItAnswers() {
        sessions.open.clear();
        queue.transitions.clear();
        openIndexBackfilling(true);

        Reconciler reconciler = reconciler();
        assertThat(run(reconciler).idle()).isFalse();

        openIndexBackfilling(false);
        clock.now = clock.now.plusSeconds(11);
        assertThat(run(reconciler).idle()).isTrue();
    }

    @Test
    void sweepOnce_should_skipWhatWaits_andWarnAgain_inEachRun() {
        openIndexBackfilling(true);
        queue.dueIndexBackfilling = true;
        Reconciler reconciler = reconciler();

        assertThat(reconciler.sweepOnce().staleClosed()).isZero();
        reconciler.sweepOnce();

        assertThat(skips()).as("a stale sweep and a due pass, twice").isEqualTo(4);
        assertThat(warnings).as("each index once a run").hasSize(4)
                .filteredOn(line -> line.startsWith("index OpenSessionsByShard")).hasSize(2);
    }

    @Test
    void otherFailures_should_stillFailTheRun() {
        // An index query refused for any other reason is not waited for: the run fails, ReconcilerErrorsAlarm sees it.
        sessions.listingFailure = new IllegalStateException("DynamoDB unavailable");

        assertThatThrownBy(() -> run(reconciler())).isSameAs(sessions.listingFailure);
        assertThat(skips()).isZero();
        assertThat(warnings).isEmpty();
    }

    @Test
    void priming_should_countNothing_andStillPrimeConnect_while_theDueIndexBackfills() throws Exception {
        queue.dueIndexBackfilling = true;
        ReconcilerPriming priming = new ReconcilerPriming(queue,
                new ConnectAgentStatus(connect, DueTransitionSweepTest.INSTANCE), () -> "resolved", new RestoreSafeRandom(), clock);

        List<String> steps = priming.primeChecked(); // a backfilling index never stops the version's publication

        assertThat(steps).containsExactly("credentials -> resolved",
                "due backlog -> not counted: index " + TableLayout.DUE_TRANSITIONS_INDEX + " is still backfilling",
                "ListAgentStatuses -> offline status cached");
        assertThat(connect.listCalls).isEqualTo(1);
    }
}
