package backstop.core.events;

import backstop.core.json.Json;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * PutEvents as the service answers it: at most 10 entries a request, refused entries (FailedEntryCount, an error
 * code per entry) sent again up to three times with a pause, nothing dropped without saying which entries.
 */
class EventBridgePublisherTest {
    private static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");
    private static final Instant AT = Instant.parse("2026-11-29T11:59:58Z");

    private final ScriptedEventBridge eventBridge = new ScriptedEventBridge();
    private final EventBridgePublisher publisher = new EventBridgePublisher(eventBridge, "ccp-backstop-bus", Clock.fixed(NOW, ZoneOffset.UTC));

    private static BackstopEvent offline(int n) {
        return new BackstopEvent.AgentSetOffline("arn:aws:connect:eu-west-2:1:instance/i/agent/u" + n, "u" + n, "s" + n,
                "tab-closed", 1, Optional.empty(), false, AT);
    }

    private static List<BackstopEvent> events(int count) {
        return IntStream.rangeClosed(1, count).mapToObj(EventBridgePublisherTest::offline).toList();
    }

    private static String session(PutEventsRequestEntry entry) {
        return Json.parseObject(entry.detail().getBytes(java.nio.charset.StandardCharsets.UTF_8)).requiredString("sessionId", 64);
    }

    @Test
    void publish_should_sendAtMostTenEntriesARequest_onTheBus_withSourceTypeDetailAndTime() {
        publisher.publish(events(23));

        assertThat(eventBridge.calls).extracting(List::size).containsExactly(10, 10, 3);
        PutEventsRequestEntry first = eventBridge.calls.getFirst().getFirst();
        assertThat(first.eventBusName()).isEqualTo("ccp-backstop-bus");
        assertThat(first.source()).isEqualTo("ccp-backstop");
        assertThat(first.detailType()).isEqualTo("Agent Set Offline");
        assertThat(first.time()).isEqualTo(NOW);
        assertThat(eventBridge.calls.stream().flatMap(List::stream).map(EventBridgePublisherTest::session))
                .containsExactlyElementsOf(IntStream.rangeClosed(1, 23).mapToObj(n -> "s" + n).toList());
    }

    @Test
    void publish_should_sendExactlyTenInOneRequest_andNothingForNoEvents() {
        publisher.publish(events(10));
        publisher.publish(List.of());
        assertThat(eventBridge.calls).extracting(List::size).containsExactly(10);
    }

    @Test
    void refusedEntries_should_beSentAgainAlone_untilTaken() {
        eventBridge.refuses = call -> entry -> call == 1 && Set.of("s2", "s5").contains(session(entry));

        publisher.publish(events(6));

        assertThat(eventBridge.calls).hasSize(2);
        assertThat(eventBridge.calls.get(1)).extracting(EventBridgePublisherTest::session).containsExactly("s2", "s5");
    }

    @Test
    void entriesRefusedThreeTimes_should_beReportedUnsent_withTheErrorCode_afterAPauseBetweenTries() {
        eventBridge.refuses = call -> entry -> session(entry).equals("s3");
        long started = System.nanoTime();

        EventsNotPublished thrown = catchThrowableOfType(EventsNotPublished.class, () -> publisher.publish(events(4)));

        long elapsedMs = (System.nanoTime() - started) / 1_000_000;
        assertThat(eventBridge.calls).extracting(List::size).containsExactly(4, 1, 1);
        assertThat(thrown.unsent()).extracting(EventBridgePublisherTest::session).containsExactly("s3");
        assertThat(thrown.failed()).isEqualTo(1);
        assertThat(thrown).hasMessage("1 event(s) not published; first error ThrottlingException");
        assertThat(elapsedMs).as("pauses of 50 and 100 ms before the second and third tries").isGreaterThanOrEqualTo(150);
    }

    @Test
    void anUnreachableBatch_should_notStopTheNextOnes_andBeReportedWhole() {
        eventBridge.unreachable = call -> call == 1;

        EventsNotPublished thrown = catchThrowableOfType(EventsNotPublished.class, () -> publisher.publish(events(12)));

        assertThat(eventBridge.calls).extracting(List::size).containsExactly(10, 2);
        assertThat(thrown.unsent()).extracting(EventBridgePublisherTest::session)
                .containsExactlyElementsOf(IntStream.rangeClosed(1, 10).mapToObj(n -> "s" + n).toList());
        assertThat(thrown).hasMessage("10 event(s) not published; first error SdkClientException");
    }

    @Test
    void refusalsInSeveralBatches_should_allBeReported() {
        eventBridge.refuses = call -> entry -> Set.of("s1", "s11").contains(session(entry));

        EventsNotPublished thrown = catchThrowableOfType(EventsNotPublished.class, () -> publisher.publish(events(11)));

        assertThat(thrown.unsent()).extracting(EventBridgePublisherTest::session).containsExactly("s1", "s11");
    }

    @Test
    void anAnswerWithoutFailedEntryCount_should_countAsTaken() {
        eventBridge.noFailedCount = true;
        publisher.publish(events(3));
        assertThat(eventBridge.calls).hasSize(1);
    }

    @Test
    void publishEntries_should_sendAKeptEntryAsItWas_withItsFirstTime() {
        PutEventsRequestEntry kept = publisher.entry(offline(7)).toBuilder().time(AT).build();
        publisher.publishEntries(List.of(kept));
        assertThat(eventBridge.calls.getFirst()).containsExactly(kept);
    }

    @Test
    void detail_should_carryEachEventsFields_asDocsEventsMdSays() {
        Instant at = Instant.parse("2026-11-29T10:00:00Z");
        String offlineId = new BackstopEvent.AgentSetOffline("arn:a", "u1", "s1", "stale", 2, Optional.empty(), false, at).eventId();
        assertThat(publisher.entry(new BackstopEvent.AgentSetOffline("arn:a", "u1", "s1", "stale", 2, Optional.of(true), true, at)).detail())
                .isEqualTo("{\"eventId\":\"" + offlineId + "\",\"agentArn\":\"arn:a\",\"userId\":\"u1\",\"sessionId\":\"s1\",\"reason\":\"stale\",\"attempts\":2,"
                        + "\"deferred\":true,\"recovered\":true,\"at\":\"2026-11-29T10:00:00Z\"}");
        assertThat(publisher.entry(new BackstopEvent.AgentSetOffline("arn:a", "u1", "s1", "tab-closed", 1, Optional.of(false), false, at)).detail())
                .as("deferred when known, recovered only when true")
                .isEqualTo("{\"eventId\":\"" + offlineId + "\",\"agentArn\":\"arn:a\",\"userId\":\"u1\",\"sessionId\":\"s1\",\"reason\":\"tab-closed\",\"attempts\":1,"
                        + "\"deferred\":false,\"at\":\"2026-11-29T10:00:00Z\"}");
        PutEventsRequestEntry failed = publisher.entry(new BackstopEvent.AgentOfflineFailed("arn:a", "u1", "s1", 5, "ThrottlingException", at));
        assertThat(failed.detailType()).isEqualTo("Agent Offline Failed");
        assertThat(failed.detail()).isEqualTo("{\"eventId\":\"" + new BackstopEvent.AgentOfflineFailed("arn:a", "u1", "s1", 5,
                "ThrottlingException", at).eventId() + "\",\"agentArn\":\"arn:a\",\"userId\":\"u1\",\"sessionId\":\"s1\",\"attempts\":5,"
                + "\"lastError\":\"ThrottlingException\",\"at\":\"2026-11-29T10:00:00Z\"}");
        PutEventsRequestEntry restored = publisher.entry(new BackstopEvent.AgentStatusRestored("arn:a", "Lunch", "s1", at));
        assertThat(restored.detailType()).isEqualTo("Agent Status Restored");
        assertThat(restored.detail()).isEqualTo("{\"eventId\":\"" + new BackstopEvent.AgentStatusRestored("arn:a", "Lunch", "s1",
                at).eventId() + "\",\"agentArn\":\"arn:a\",\"statusName\":\"Lunch\",\"sessionId\":\"s1\","
                + "\"at\":\"2026-11-29T10:00:00Z\"}");
    }

    @Test
    void eventId_should_nameOneOutcome_sameForEveryDeliveryOfIt_andDifferForAnotherOutcomeOrSession() {
        Instant at = Instant.parse("2026-11-29T10:00:00Z");
        BackstopEvent.AgentSetOffline first = new BackstopEvent.AgentSetOffline("arn:a", "u1", "s1", "tab-closed", 1, Optional.empty(), false, at);
        BackstopEvent.AgentSetOffline resent = new BackstopEvent.AgentSetOffline("arn:a", "u1", "s1", "retry", 3, Optional.of(true), true,
                at.plusSeconds(90));

        assertThat(first.eventId()).as("a name-based UUID of source, type and session: fixed across releases")
                .isEqualTo("e692bcc7-df0f-3f48-8861-8fc1e26a605d")
                .isEqualTo(resent.eventId());
        assertThat(new BackstopEvent.AgentOfflineFailed("arn:a", "u1", "s1", 5, "x", at).eventId()).isNotEqualTo(first.eventId());
        assertThat(new BackstopEvent.AgentSetOffline("arn:a", "u1", "s2", "tab-closed", 1, Optional.empty(), false, at).eventId())
                .isNotEqualTo(first.eventId());
        assertThat(Json.parseObject(publisher.entry(first).detail().getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .requiredString("eventId", 64)).isEqualTo(first.eventId());
    }

    @Test
    void relay_should_sendTheOldestKeptEventsInOrder_forgetEachOneTaken_andStopAtTheFirstRefusal() {
        MemoryOutbox outbox = new MemoryOutbox(5);
        eventBridge.refuses = call -> entry -> session(entry).equals("s4");

        int sent = new OutboxRelay(outbox, publisher, Clock.fixed(NOW, ZoneOffset.UTC)).relay();

        assertThat(sent).isEqualTo(3);
        assertThat(outbox.forgotten).containsExactly("k1", "k2", "k3");
        assertThat(eventBridge.calls.stream().flatMap(List::stream).map(EventBridgePublisherTest::session))
                .as("s4 tried three times, s5 waits for the next sweep").containsExactly("s1", "s2", "s3", "s4", "s4", "s4");
        assertThat(outbox.asked).as("only rows older than the grace: their writers are gone")
                .containsExactly(OutboxRelay.PER_RELAY + " before " + NOW.minus(OutboxRelay.RELAY_AFTER));
    }

    @Test
    void relay_should_sendNothing_when_theOutboxCannotBeRead() {
        MemoryOutbox outbox = new MemoryOutbox(2) {
            @Override
            public List<Kept> oldest(int limit, Instant before) {
                throw new IllegalStateException("table unreachable");
            }
        };
        assertThat(new OutboxRelay(outbox, publisher, Clock.fixed(NOW, ZoneOffset.UTC)).relay()).isZero();
        assertThat(eventBridge.calls).isEmpty();
    }

    /** Kept events k1..kN, one per session s1..sN. */
    private class MemoryOutbox implements EventOutbox {
        final List<Kept> kept;
        final List<String> forgotten = new java.util.ArrayList<>();
        final List<String> asked = new java.util.ArrayList<>();

        MemoryOutbox(int count) {
            kept = IntStream.rangeClosed(1, count).mapToObj(n -> new Kept("k" + n, publisher.entry(offline(n)))).toList();
        }

        @Override
        public void keep(List<PutEventsRequestEntry> entries) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Kept row(PutEventsRequestEntry entry) {
            return new Kept("k-" + session(entry), entry);
        }

        @Override
        public List<Kept> oldest(int limit, Instant before) {
            asked.add(limit + " before " + before);
            return kept.subList(0, Math.min(limit, kept.size()));
        }

        @Override
        public void sent(Kept k) {
            forgotten.add(k.key());
        }
    }
}
