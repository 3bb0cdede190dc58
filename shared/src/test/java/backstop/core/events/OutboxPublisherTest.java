package backstop.core.events;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Staged events: published, then their rows forgotten; a row whose event EventBridge refused stays for the relay. */
class OutboxPublisherTest {
    static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");

    final ScriptedEventBridge eventBridge = new ScriptedEventBridge();
    final EventBridgePublisher bridge = new EventBridgePublisher(eventBridge, "bus", Clock.fixed(NOW, ZoneOffset.UTC));

    /** Rows by the session in their event; records what is kept and forgotten. */
    final class MemoryOutbox implements EventOutbox {
        final List<String> kept = new ArrayList<>();
        final List<String> forgotten = new ArrayList<>();

        @Override public void keep(List<PutEventsRequestEntry> entries) { entries.forEach(e -> kept.add(row(e).key())); }
        @Override public Kept row(PutEventsRequestEntry entry) { return new Kept("row-" + session(entry), entry); }
        @Override public List<Kept> oldest(int limit, Instant before) { return List.of(); }
        @Override public void sent(Kept k) { forgotten.add(k.key()); }
    }

    final MemoryOutbox outbox = new MemoryOutbox();
    final OutboxPublisher publisher = new OutboxPublisher(bridge, outbox);

    static String session(PutEventsRequestEntry entry) {
        return entry.detail().replaceAll(".*\"sessionId\":\"([^\"]+)\".*", "$1");
    }

    static BackstopEvent offline(int n) {
        return new BackstopEvent.AgentSetOffline("arn:a/agent/u" + n, "u" + n, "s" + n, "tab-closed", 1, Optional.empty(), false, NOW);
    }

    @Test
    void publishStaged_should_forgetTheRowsOfEventsEventBridgeTook_andLeaveTheRefusedOnesRowsUnwrittenAgain() {
        List<StagedEvent> staged = IntStream.rangeClosed(1, 3).mapToObj(n -> publisher.stage(offline(n))).toList();
        eventBridge.refuses = call -> entry -> session(entry).equals("s2");

        publisher.publishStaged(staged);

        assertThat(staged).allSatisfy(s -> assertThat(s.row()).isPresent());
        assertThat(outbox.forgotten).containsExactly("row-s1", "row-s3");
        assertThat(outbox.kept).as("s2's row is on the table already, written with its outcome").isEmpty();
    }

    @Test
    void publishStaged_should_keepAnEventWithoutRow_when_EventBridgeRefusesIt() {
        eventBridge.refuses = call -> entry -> true;

        publisher.publishStaged(List.of(StagedEvent.withoutRow(offline(1))));

        assertThat(outbox.kept).containsExactly("row-s1");
        assertThat(outbox.forgotten).isEmpty();
    }

    @Test
    void stagedEntry_should_beTheEntryPublished_soARelayedCopyCarriesTheSameIdAndTime() {
        StagedEvent staged = publisher.stage(offline(1));

        publisher.publishStaged(List.of(staged));

        assertThat(eventBridge.calls).singleElement().satisfies(call -> assertThat(call).containsExactly(staged.row().orElseThrow().entry()));
        assertThat(staged.row().orElseThrow().entry().detail()).contains("\"eventId\":\"" + offline(1).eventId() + "\"");
    }
}
