package backstop.local.store;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;
import backstop.core.agent.InstanceRef;
import backstop.core.session.AgentRecord;
import backstop.core.session.CloseReason;
import backstop.core.session.CloseRequest;
import backstop.core.session.CloseResult;
import backstop.core.session.DynamoSessionStore;
import backstop.core.session.DynamoTransitionStore;
import backstop.core.session.Exemption;
import backstop.core.session.Heartbeat;
import backstop.core.session.HeartbeatResult;
import backstop.core.session.NewSession;
import backstop.core.session.Session;
import backstop.core.session.SessionId;
import backstop.core.session.SessionLimitReached;
import backstop.core.session.SessionState;
import backstop.core.session.SessionToken;
import backstop.core.session.TableLayout;
import backstop.core.transition.OfflineOutcome;
import backstop.core.transition.Transition;
import backstop.core.transition.TransitionReason;
import backstop.core.transition.TransitionState;
import backstop.local.aws.AwsEmulation;
import backstop.local.aws.TemplateResources;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The store tier: the DynamoDB stores through the real AWS SDK against moto, on the template's own table (keys,
 * sparse indexes), without the rest of the stack. Each test asserts what is written, attribute by attribute, and
 * what each conditional write refuses: these writes settle every race the integration tier exercises, and
 * `local/bin/mutation java` mutates the stores against this class.
 */
class DynamoStoresTest {
    static final InstanceRef INSTANCE = InstanceRef.parseArn("arn:aws:connect:us-east-1:123456789012:instance/store-test");
    static final Instant T0 = Instant.parse("2026-11-29T12:00:00Z");
    static final AgentStatus LUNCH = new AgentStatus("Lunch", "arn:aws:connect:us-east-1:123456789012:instance/store-test/agent-state/lunch");
    static final SecureRandom RANDOM = new SecureRandom();
    static DynamoDbClient dynamoDb;
    static String table;
    DynamoSessionStore sessions;
    DynamoTransitionStore transitions;

    @BeforeAll
    static void start() {
        dynamoDb = StoreTables.client();
        table = StoreTables.create(dynamoDb, "store");
    }

    @AfterAll
    static void stop() {
        dynamoDb.deleteTable(r -> r.tableName(table));
        dynamoDb.close();
    }

    @BeforeEach
    void stores() {
        sessions = new DynamoSessionStore(dynamoDb, table);
        transitions = new DynamoTransitionStore(dynamoDb, table);
    }

    static AgentRef newAgent() {
        return new AgentRef(INSTANCE, "u-" + UUID.randomUUID());
    }

    static NewSession session(AgentRef agent, SessionToken token, Instant at) {
        return new NewSession(SessionId.random(RANDOM), agent, token.hash(), at, Optional.of(LUNCH),
                Optional.of(new NewSession.CheckedUser("ada", Optional.of("rp-sales"))), Exemption.NOT_EXEMPT, Optional.empty(), 4);
    }

    static Map<String, AttributeValue> item(String pk, String sk) {
        return dynamoDb.getItem(r -> r.tableName(table).consistentRead(true)
                .key(Map.of("pk", AttributeValue.fromS(pk), "sk", AttributeValue.fromS(sk)))).item();
    }

    static Map<String, AttributeValue> sessionItem(SessionId id) {
        return item("SESSION#" + id.value(), "SESSION");
    }

    static CloseRequest close(SessionId id, Instant at, Exemption exemption) {
        return new CloseRequest(id, CloseReason.TAB_CLOSED, Optional.empty(), at, exemption, "claim-1", at.plusSeconds(10), Optional.empty());
    }

    // --- sessions ---

    @Test
    void createSession_should_writeTheSessionAndTheAgent_attributeByAttribute() {
        AgentRef agent = newAgent();
        SessionToken token = SessionToken.random(RANDOM);
        NewSession created = session(agent, token, T0);

        assertThat(sessions.createSession(created)).as("no restore asked").isFalse();

        Session stored = sessions.findSession(created.id()).orElseThrow();
        assertThat(stored.agent()).isEqualTo(agent);
        assertThat(token.matches(stored.tokenHash())).isTrue();
        assertThat(stored.created()).isEqualTo(T0);
        assertThat(stored.lastSeen()).isEqualTo(T0);
        assertThat(stored.state()).isEqualTo(SessionState.OPEN);
        assertThat(stored.status()).contains(LUNCH);
        assertThat(stored.heartbeats()).isZero();
        assertThat(stored.exemption()).isEqualTo(Exemption.NOT_EXEMPT);
        Map<String, AttributeValue> raw = sessionItem(created.id());
        assertThat(raw.get("openShard").s()).isEqualTo(TableLayout.openShard(TableLayout.shard(created.id())));
        assertThat(raw.get("expiresAt").n()).isEqualTo(String.valueOf(T0.plus(Duration.ofDays(7)).getEpochSecond()));

        AgentRecord record = sessions.findAgent(agent).orElseThrow();
        assertThat(record.openSessions()).containsExactly(created.id().value());
        assertThat(record.username()).contains("ada");
        assertThat(record.routingProfileId()).contains("rp-sales");
        assertThat(record.profileCheckedAt()).contains(T0);
        assertThat(record.lastClose()).isEmpty();
        Map<String, AttributeValue> agentItem = item("AGENT#store-test#" + agent.userId(), "AGENT");
        assertThat(agentItem.get("expiresAt").n()).isEqualTo(String.valueOf(T0.plus(Duration.ofDays(90)).getEpochSecond()));
        assertThat(agentItem.get("updatedAt").n()).isEqualTo(String.valueOf(T0.toEpochMilli()));
        assertThat(sessions.openSessionIds(agent)).containsExactly(created.id().value());
    }

    @Test
    void createSession_should_recordExemptionsAsTheyAre_andKeepAnEarlierUsername_whenNotCheckedAgain() {
        AgentRef agent = newAgent();
        NewSession first = session(agent, SessionToken.random(RANDOM), T0);
        sessions.createSession(first);
        NewSession exempt = new NewSession(SessionId.random(RANDOM), agent, SessionToken.random(RANDOM).hash(), T0.plusSeconds(1),
                Optional.empty(), Optional.empty(), Exemption.EXEMPT, Optional.empty(), 4);
        NewSession unknown = new NewSession(SessionId.random(RANDOM), agent, SessionToken.random(RANDOM).hash(), T0.plusSeconds(2),
                Optional.empty(), Optional.empty(), Exemption.UNKNOWN, Optional.empty(), 4);
        sessions.createSession(exempt);
        sessions.createSession(unknown);

        assertThat(sessions.findSession(exempt.id()).orElseThrow().exemption()).isEqualTo(Exemption.EXEMPT);
        assertThat(sessionItem(exempt.id()).get("exempt").bool()).isTrue();
        assertThat(sessions.findSession(unknown.id()).orElseThrow().exemption()).isEqualTo(Exemption.UNKNOWN);
        assertThat(sessionItem(unknown.id())).doesNotContainKey("exempt");
        assertThat(sessionItem(first.id()).get("exempt").bool()).isFalse();
        assertThat(sessions.findSession(exempt.id()).orElseThrow().status()).isEmpty();
        AgentRecord record = sessions.findAgent(agent).orElseThrow();
        assertThat(record.username()).as("a register without a check keeps what was known").contains("ada");
        assertThat(record.profileCheckedAt()).contains(T0);
        assertThat(record.openSessions()).hasSize(3);
    }

    @Test
    void createSession_should_refuseTheRegisterPastTheCap_writingNothing() {
        AgentRef agent = newAgent();
        NewSession one = withCap(session(agent, SessionToken.random(RANDOM), T0), 2);
        NewSession two = withCap(session(agent, SessionToken.random(RANDOM), T0), 2);
        NewSession three = withCap(session(agent, SessionToken.random(RANDOM), T0), 2);
        sessions.createSession(one);
        sessions.createSession(two);

        assertThatThrownBy(() -> sessions.createSession(three)).isInstanceOfSatisfying(SessionLimitReached.class,
                limit -> assertThat(limit.open()).isEqualTo(2));
        assertThat(sessions.findSession(three.id())).isEmpty();
        assertThat(sessions.openSessionIds(agent)).containsExactlyInAnyOrder(one.id().value(), two.id().value());
    }

    static NewSession withCap(NewSession s, int cap) {
        return new NewSession(s.id(), s.agent(), s.tokenHash(), s.created(), s.status(), s.checkedUser(), s.exemption(), s.restoreOf(), cap);
    }

    @Test
    void createSession_should_succeedAgain_when_itsOwnEarlierTryLanded_butRefuseAnotherTokenOnTheSameId() {
        AgentRef agent = newAgent();
        NewSession created = session(agent, SessionToken.random(RANDOM), T0);
        sessions.createSession(created);

        assertThat(sessions.createSession(created)).as("a retried register whose first try landed").isFalse();
        assertThat(sessions.openSessionIds(agent)).containsExactly(created.id().value());

        NewSession impostor = new NewSession(created.id(), agent, SessionToken.random(RANDOM).hash(), T0, Optional.empty(),
                Optional.empty(), Exemption.NOT_EXEMPT, Optional.empty(), 4);
        assertThatThrownBy(() -> sessions.createSession(impostor)).isInstanceOf(TransactionCanceledException.class);
    }

    @Test
    void createSession_should_takeTheRestoreOnce_andRegisterWithoutItAfterwards() {
        AgentRef agent = newAgent();
        NewSession closed = session(agent, SessionToken.random(RANDOM), T0);
        sessions.createSession(closed);
        sessions.close(sessions.findSession(closed.id()).orElseThrow(), close(closed.id(), T0.plusSeconds(5), Exemption.NOT_EXEMPT));
        NewSession reloaded = withRestore(session(agent, SessionToken.random(RANDOM), T0.plusSeconds(6)), closed.id());
        NewSession another = withRestore(session(agent, SessionToken.random(RANDOM), T0.plusSeconds(7)), closed.id());

        assertThat(sessions.createSession(reloaded)).as("the first page takes the restore").isTrue();
        assertThat(sessions.findAgent(agent).orElseThrow().lastClose().orElseThrow().restoredBy()).contains(reloaded.id());
        assertThat(sessions.createSession(reloaded)).as("the same register retried after its answer was lost still has it").isTrue();
        assertThat(sessions.createSession(another)).as("the second registers without it").isFalse();
        assertThat(sessions.findSession(another.id())).isPresent();
        assertThat(sessions.findAgent(agent).orElseThrow().lastClose().orElseThrow().restoredBy()).contains(reloaded.id());
    }

    @Test
    void createSession_should_writeTheRestoresEventRow_withTheRestoreItTakes_andNotForARegisterWithoutIt() {
        AgentRef agent = newAgent();
        NewSession closed = session(agent, SessionToken.random(RANDOM), T0);
        sessions.createSession(closed);
        sessions.close(sessions.findSession(closed.id()).orElseThrow(), close(closed.id(), T0.plusSeconds(5), Exemption.NOT_EXEMPT));
        backstop.core.session.DynamoEventOutbox outbox = new backstop.core.session.DynamoEventOutbox(dynamoDb, table);
        NewSession reloaded = withRestore(session(agent, SessionToken.random(RANDOM), T0.plusSeconds(6)), closed.id());
        NewSession another = withRestore(session(agent, SessionToken.random(RANDOM), T0.plusSeconds(7)), closed.id());
        var restoredRow = restoredRow(outbox, reloaded);
        var anotherRow = restoredRow(outbox, another);

        assertThat(sessions.createSession(withEvent(reloaded, restoredRow))).isTrue();
        assertThat(sessions.createSession(withEvent(another, anotherRow))).as("the restore was taken").isFalse();

        List<String> kept = outbox.oldest(1000, Instant.parse("2100-01-01T00:00:00Z")).stream().map(k -> k.key()).toList();
        assertThat(kept).as("the restore's event, written with it").contains(restoredRow.key());
        assertThat(kept).as("no restore, no event").doesNotContain(anotherRow.key());
    }

    static backstop.core.events.EventOutbox.Kept restoredRow(backstop.core.events.EventOutbox outbox, NewSession s) {
        return outbox.row(software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry.builder().source("ccp-backstop")
                .detailType("Agent Status Restored").detail("{\"sessionId\":\"" + s.id().value() + "\"}").time(s.created())
                .eventBusName("bus").build());
    }

    static NewSession withEvent(NewSession s, backstop.core.events.EventOutbox.Kept row) {
        return new NewSession(s.id(), s.agent(), s.tokenHash(), s.created(), s.status(), s.checkedUser(), s.exemption(),
                s.restoreOf(), s.maxOpenSessions(), Optional.of(row));
    }

    static NewSession withRestore(NewSession s, SessionId of) {
        return new NewSession(s.id(), s.agent(), s.tokenHash(), s.created(), s.status(), s.checkedUser(), s.exemption(), Optional.of(of), s.maxOpenSessions());
    }

    @Test
    void heartbeat_should_recordTheBeat_andRefuseEveryOtherCase_withoutWriting() {
        AgentRef agent = newAgent();
        SessionToken token = SessionToken.random(RANDOM);
        NewSession created = session(agent, token, T0);
        sessions.createSession(created);
        AgentStatus available = new AgentStatus("Available", null);

        Heartbeat beat = sessions.heartbeat(created.id(), token, Optional.of(available), T0.plusSeconds(20), Optional.of(T0.plusSeconds(15)));
        assertThat(beat.result()).isEqualTo(HeartbeatResult.RECORDED);
        assertThat(beat.agent()).contains(agent);
        Session after = sessions.findSession(created.id()).orElseThrow();
        assertThat(after.lastSeen()).isEqualTo(T0.plusSeconds(20));
        assertThat(after.heartbeats()).isEqualTo(1);
        assertThat(after.status()).contains(available);
        Map<String, AttributeValue> raw = sessionItem(created.id());
        assertThat(raw.get("lastBeatAt").n()).isEqualTo(String.valueOf(T0.plusSeconds(20).toEpochMilli()));
        assertThat(raw).as("an ARN-less status takes the last one's ARN away with it").doesNotContainKey("statusArn");
        assertThat(raw.get("expiresAt").n()).isEqualTo(String.valueOf(T0.plusSeconds(20).plus(Duration.ofDays(7)).getEpochSecond()));

        assertThat(sessions.heartbeat(created.id(), token, Optional.empty(), T0.plusSeconds(24), Optional.of(T0.plusSeconds(19))).result())
                .as("closer than allowed to the previous beat").isEqualTo(HeartbeatResult.TOO_FREQUENT);
        assertThat(sessions.heartbeat(created.id(), SessionToken.random(RANDOM), Optional.empty(), T0.plusSeconds(40), Optional.empty()).result())
                .isEqualTo(HeartbeatResult.BAD_TOKEN);
        assertThat(sessions.heartbeat(SessionId.random(RANDOM), token, Optional.empty(), T0.plusSeconds(40), Optional.empty()))
                .isEqualTo(Heartbeat.refused(HeartbeatResult.UNKNOWN_SESSION));
        assertThat(sessions.findSession(created.id()).orElseThrow().heartbeats()).as("refused beats write nothing").isEqualTo(1);

        assertThat(sessions.heartbeat(created.id(), token, Optional.of(LUNCH), T0.plusSeconds(40), Optional.of(T0.plusSeconds(20))).result())
                .as("exactly the limit is allowed").isEqualTo(HeartbeatResult.RECORDED);
        assertThat(sessions.findSession(created.id()).orElseThrow().status()).as("a status with its ARN keeps both").contains(LUNCH);
        sessions.close(sessions.findSession(created.id()).orElseThrow(), close(created.id(), T0.plusSeconds(50), Exemption.NOT_EXEMPT));
        assertThat(sessions.heartbeat(created.id(), token, Optional.empty(), T0.plusSeconds(60), Optional.empty()).result())
                .isEqualTo(HeartbeatResult.SESSION_CLOSED);
        assertThat(sessions.findSession(created.id()).orElseThrow().state()).as("never reopened").isEqualTo(SessionState.CLOSED);
    }

    @Test
    void heartbeat_should_refuseASessionPastItsAge_inTheSameCondition_writingNothing_butCheckTheTokenFirst() {
        AgentRef agent = newAgent();
        SessionToken token = SessionToken.random(RANDOM);
        NewSession created = session(agent, token, T0);
        sessions.createSession(created);

        assertThat(sessions.heartbeat(created.id(), token, Optional.empty(), T0.plusSeconds(30), Optional.empty(), Optional.empty(),
                Optional.of(T0.minusMillis(1))).result()).as("born after the limit: alive").isEqualTo(HeartbeatResult.RECORDED);
        assertThat(sessions.heartbeat(created.id(), token, Optional.empty(), T0.plusSeconds(60), Optional.empty(), Optional.empty(),
                Optional.of(T0)).result()).as("born at the limit: expired").isEqualTo(HeartbeatResult.EXPIRED);
        assertThat(sessions.heartbeat(created.id(), SessionToken.random(RANDOM), Optional.empty(), T0.plusSeconds(90), Optional.empty(),
                Optional.empty(), Optional.of(T0)).result()).as("another's token learns nothing of the age").isEqualTo(HeartbeatResult.BAD_TOKEN);
        Session after = sessions.findSession(created.id()).orElseThrow();
        assertThat(after.lastSeen()).as("an expired beat keeps nothing alive").isEqualTo(T0.plusSeconds(30));
        assertThat(after.heartbeats()).isEqualTo(1);
        assertThat(after.state()).as("the store only refuses; closing is the beacon's").isEqualTo(SessionState.OPEN);
    }

    @Test
    void heartbeat_should_recordWhenThePageWasThrottled_inTheSameWrite_andKeepItThroughCalmBeats() {
        AgentRef agent = newAgent();
        SessionToken token = SessionToken.random(RANDOM);
        NewSession created = session(agent, token, T0);
        sessions.createSession(created);
        assertThat(sessions.findSession(created.id()).orElseThrow().crowdedAt()).isEmpty();

        sessions.heartbeat(created.id(), token, Optional.empty(), T0.plusSeconds(30), Optional.empty(), Optional.of(T0.plusSeconds(18)));
        assertThat(sessions.readSessions(List.of(created.id()))).singleElement()
                .satisfies(read -> assertThat(read.crowdedAt()).contains(T0.plusSeconds(18)));
        sessions.heartbeat(created.id(), token, Optional.empty(), T0.plusSeconds(60), Optional.empty(), Optional.empty());
        assertThat(sessions.findSession(created.id()).orElseThrow().crowdedAt()).as("a calm beat leaves it").contains(T0.plusSeconds(18));
        assertThat(sessions.heartbeat(SessionId.random(RANDOM), token, Optional.empty(), T0.plusSeconds(60), Optional.empty(),
                Optional.of(T0.plusSeconds(50))).result()).as("a made-up id writes nothing").isEqualTo(HeartbeatResult.UNKNOWN_SESSION);
    }

    @Test
    void findAgents_should_readSeveralAgents_andLeaveOutThoseWithoutAnItem() {
        AgentRef a = newAgent();
        AgentRef b = newAgent();
        sessions.createSession(session(a, SessionToken.random(RANDOM), T0));
        sessions.createSession(session(b, SessionToken.random(RANDOM), T0));

        Map<AgentRef, AgentRecord> found = sessions.findAgents(List.of(a, b, newAgent(), a));

        assertThat(found).containsOnlyKeys(a, b);
        List<AgentRef> many = new java.util.ArrayList<>();
        List<software.amazon.awssdk.services.dynamodb.model.WriteRequest> puts = new java.util.ArrayList<>();
        for (int i = 0; i < 130; i++) { // BatchGetItem takes 100 keys: two batches
            AgentRef agent = newAgent();
            many.add(agent);
            puts.add(software.amazon.awssdk.services.dynamodb.model.WriteRequest.builder().putRequest(r -> r.item(Map.of(
                    "pk", AttributeValue.fromS("AGENT#store-test#" + agent.userId()), "sk", AttributeValue.fromS("AGENT"),
                    "connectUsername", AttributeValue.fromS(agent.userId())))).build());
        }
        for (int from = 0; from < puts.size(); from += 25) {
            List<software.amazon.awssdk.services.dynamodb.model.WriteRequest> batch = puts.subList(from, Math.min(puts.size(), from + 25));
            dynamoDb.batchWriteItem(r -> r.requestItems(Map.of(table, batch)));
        }
        Map<AgentRef, AgentRecord> all = sessions.findAgents(many);
        assertThat(all).hasSize(130);
        assertThat(all.get(many.get(129)).username()).contains(many.get(129).userId());
        assertThat(found.get(b).openSessions()).hasSize(1);
        assertThat(sessions.findAgent(newAgent())).isEmpty();
        assertThat(sessions.openSessionIds(newAgent())).isEmpty();
    }

    @Test
    void openSessionsInShard_should_listEveryOpenSession_inItsShard_andReadSessions_shouldGiveTheirLastHeartbeat() {
        Instant past = T0.minus(Duration.ofDays(400));
        List<NewSession> created = new java.util.ArrayList<>();
        Map<SessionId, SessionToken> tokens = new HashMap<>();
        for (int i = 0; i < 40; i++) {
            SessionToken token = SessionToken.random(RANDOM);
            NewSession s = withCap(session(newAgent(), token, past.plusSeconds(i)), 4);
            sessions.createSession(s);
            created.add(s);
            tokens.put(s.id(), token);
        }
        NewSession closed = created.getFirst();
        sessions.close(sessions.findSession(closed.id()).orElseThrow(), close(closed.id(), past.plusSeconds(100), Exemption.NOT_EXEMPT));
        NewSession beating = created.get(1);
        sessions.heartbeat(beating.id(), tokens.get(beating.id()), Optional.empty(), past.plusSeconds(500));
        java.util.Set<SessionId> mine = created.stream().map(NewSession::id).collect(java.util.stream.Collectors.toSet());

        Map<SessionId, Integer> listed = new HashMap<>();
        for (int shard = 0; shard < TableLayout.SHARDS; shard++) {
            for (SessionId id : sessions.openSessionsInShard(shard, Optional.empty())) {
                if (mine.contains(id)) {
                    listed.put(id, shard);
                }
            }
        }
        java.util.Set<SessionId> recent = new java.util.HashSet<>();
        for (int shard = 0; shard < TableLayout.SHARDS; shard++) {
            recent.addAll(sessions.openSessionsInShard(shard, Optional.of(past.plusSeconds(29))));
        }
        assertThat(recent).as("created after the given moment (and still open)").filteredOn(mine::contains)
                .containsExactlyInAnyOrderElementsOf(created.subList(30, 40).stream().map(NewSession::id).toList());
        assertThat(listed.keySet()).as("every open session, the closed one not")
                .containsExactlyInAnyOrderElementsOf(created.subList(1, 40).stream().map(NewSession::id).toList());
        assertThat(listed).allSatisfy((id, shard) -> assertThat(shard).isEqualTo(TableLayout.shard(id)));

        List<Session> read = sessions.readSessions(created.stream().map(NewSession::id).toList());
        assertThat(read).hasSize(40);
        Map<SessionId, Session> byId = read.stream().collect(java.util.stream.Collectors.toMap(Session::id, s -> s));
        assertThat(byId.get(beating.id()).lastSeen()).isEqualTo(past.plusSeconds(500));
        assertThat(byId.get(created.get(39).id()).lastSeen()).isEqualTo(past.plusSeconds(39));
        assertThat(byId.get(closed.id()).isOpen()).isFalse();
        assertThat(sessions.readSessions(List.of(SessionId.random(RANDOM)))).isEmpty();
    }

    @Test
    void close_should_endTheLastSession_withAPendingTransitionUnderTheClaim_andTheLastClose() {
        AgentRef agent = newAgent();
        NewSession created = session(agent, SessionToken.random(RANDOM), T0);
        sessions.createSession(created);
        Instant at = T0.plusSeconds(30);
        AgentStatus closing = new AgentStatus("Available", "arn:x/agent-state/avail");
        CloseRequest request = new CloseRequest(created.id(), CloseReason.TAB_CLOSED, Optional.of(closing), at, Exemption.NOT_EXEMPT,
                "claim-7", at.plusSeconds(20), Optional.empty());

        CloseResult result = sessions.close(sessions.findSession(created.id()).orElseThrow(), request);

        assertThat(result).isInstanceOfSatisfying(CloseResult.Closed.class, closed -> {
            assertThat(closed.outcome()).isEqualTo(OfflineOutcome.PENDING);
            Transition t = closed.transition().orElseThrow();
            assertThat(t.state()).isEqualTo(TransitionState.PENDING);
            assertThat(t.reason()).isEqualTo(TransitionReason.TAB_CLOSED);
            assertThat(t.claim()).contains("claim-7");
            assertThat(t.nextAttemptAt()).isEqualTo(at.plusSeconds(20));
            assertThat(t.checkExemption()).isFalse();
        });
        Session stored = sessions.findSession(created.id()).orElseThrow();
        assertThat(stored.state()).isEqualTo(SessionState.CLOSED);
        assertThat(stored.closedAt()).contains(at);
        assertThat(stored.closeReason()).contains(CloseReason.TAB_CLOSED);
        assertThat(stored.closeOutcome()).contains(OfflineOutcome.PENDING);
        assertThat(stored.status()).contains(closing);
        assertThat(sessionItem(created.id())).doesNotContainKey("openShard");
        AgentRecord record = sessions.findAgent(agent).orElseThrow();
        assertThat(record.openSessions()).isEmpty();
        AgentRecord.LastClose last = record.lastClose().orElseThrow();
        assertThat(last.sessionId()).isEqualTo(created.id());
        assertThat(last.at()).isEqualTo(at);
        assertThat(last.reason()).isEqualTo(CloseReason.TAB_CLOSED);
        assertThat(last.status()).contains(closing);
        assertThat(last.setOffline()).isTrue();
        assertThat(last.restoredBy()).isEmpty();
        Transition stored2 = transitions.findTransition(created.id()).orElseThrow();
        assertThat(stored2.agent()).isEqualTo(agent);
        assertThat(stored2.created()).isEqualTo(at);
        assertThat(transitions.findDueTransitions(TableLayout.shard(created.id()), at.plusSeconds(20), 1000))
                .as("due when the closer's lease ends").anyMatch(t -> t.sessionId().equals(created.id()));
        assertThat(transitions.findDueTransitions(TableLayout.shard(created.id()), at.plusSeconds(19), 1000))
                .noneMatch(t -> t.sessionId().equals(created.id()));

        assertThat(sessions.close(stored, request)).as("a second close changes nothing").isInstanceOfSatisfying(CloseResult.AlreadyClosed.class,
                already -> assertThat(already.session().closeOutcome()).contains(OfflineOutcome.PENDING));
    }

    @Test
    void close_should_leaveTheAgentAlone_when_anotherSessionStaysOpen_andKeepTheSessionsStatusAsTheLastClose() {
        AgentRef agent = newAgent();
        NewSession first = session(agent, SessionToken.random(RANDOM), T0);
        NewSession second = session(agent, SessionToken.random(RANDOM), T0);
        sessions.createSession(first);
        sessions.createSession(second);

        AgentStatus afterCallWork = new AgentStatus("AfterCallWork", null);
        CloseResult result = sessions.close(sessions.findSession(first.id()).orElseThrow(), new CloseRequest(first.id(),
                CloseReason.TAB_CLOSED, Optional.of(afterCallWork), T0.plusSeconds(9), Exemption.NOT_EXEMPT, "c", T0.plusSeconds(19), Optional.empty()));

        assertThat(result).isEqualTo(new CloseResult.Closed(OfflineOutcome.NOT_NEEDED, Optional.empty()));
        assertThat(sessions.findSession(first.id()).orElseThrow().status()).as("no ARN kept from the status before").contains(afterCallWork);
        assertThat(transitions.findTransition(first.id())).isEmpty();
        AgentRecord record = sessions.findAgent(agent).orElseThrow();
        assertThat(record.openSessions()).containsExactly(second.id().value());
        assertThat(record.lastClose().orElseThrow().setOffline()).isFalse();
        assertThat(record.lastClose().orElseThrow().status()).contains(afterCallWork);
        assertThat(sessions.findSession(first.id()).orElseThrow().closeOutcome()).contains(OfflineOutcome.NOT_NEEDED);
    }

    @Test
    void close_should_recordAnExemptClose_andAskConnectFirst_whenTheExemptionIsUnknown() {
        AgentRef agent = newAgent();
        NewSession exempt = session(agent, SessionToken.random(RANDOM), T0);
        sessions.createSession(exempt);
        CloseResult result = sessions.close(sessions.findSession(exempt.id()).orElseThrow(), close(exempt.id(), T0.plusSeconds(3), Exemption.EXEMPT));
        assertThat(result).isInstanceOfSatisfying(CloseResult.Closed.class, closed -> {
            assertThat(closed.outcome()).isEqualTo(OfflineOutcome.EXEMPT);
            assertThat(closed.transition().orElseThrow().state()).isEqualTo(TransitionState.EXEMPT);
            assertThat(closed.transition().orElseThrow().completedAt()).contains(T0.plusSeconds(3));
            assertThat(closed.transition().orElseThrow().claim()).isEmpty();
        });
        assertThat(sessions.findAgent(agent).orElseThrow().lastClose().orElseThrow().setOffline()).isFalse();
        assertThat(transitions.findDueTransitions(TableLayout.shard(exempt.id()), T0.plus(Duration.ofDays(1)), 1000))
                .noneMatch(t -> t.sessionId().equals(exempt.id()));

        AgentRef other = newAgent();
        NewSession unknown = session(other, SessionToken.random(RANDOM), T0);
        sessions.createSession(unknown);
        CloseResult asked = sessions.close(sessions.findSession(unknown.id()).orElseThrow(), close(unknown.id(), T0.plusSeconds(3), Exemption.UNKNOWN));
        assertThat(asked).isInstanceOfSatisfying(CloseResult.Closed.class, closed -> {
            assertThat(closed.outcome()).isEqualTo(OfflineOutcome.PENDING);
            assertThat(closed.transition().orElseThrow().checkExemption()).isTrue();
        });
        assertThat(transitions.findTransition(unknown.id()).orElseThrow().checkExemption()).isTrue();
    }

    @Test
    void staleClose_should_closeOnlyASessionNotSeenSinceTheCutoff_andLoseToAHeartbeatThatLandedMeanwhile() {
        AgentRef agent = newAgent();
        SessionToken token = SessionToken.random(RANDOM);
        NewSession created = session(agent, token, T0);
        sessions.createSession(created);
        Session seenAtStart = sessions.findSession(created.id()).orElseThrow();
        sessions.heartbeat(created.id(), token, Optional.empty(), T0.plusSeconds(60), Optional.empty());
        Instant cutoff = T0.plusSeconds(45);
        CloseRequest stale = new CloseRequest(created.id(), CloseReason.STALE, Optional.empty(), T0.plusSeconds(120),
                Exemption.NOT_EXEMPT, "sweep", T0.plusSeconds(130), Optional.of(cutoff));

        assertThat(sessions.close(seenAtStart, stale)).as("the sweep read an old lastSeen; the beat since wins")
                .isInstanceOf(CloseResult.StillAlive.class);
        assertThat(sessions.findSession(created.id()).orElseThrow().isOpen()).isTrue();
        assertThat(sessions.close(sessions.findSession(created.id()).orElseThrow(), stale)).isInstanceOf(CloseResult.StillAlive.class);

        CloseRequest later = new CloseRequest(created.id(), CloseReason.STALE, Optional.empty(), T0.plusSeconds(200),
                Exemption.NOT_EXEMPT, "sweep", T0.plusSeconds(210), Optional.of(T0.plusSeconds(61)));
        assertThat(sessions.close(sessions.findSession(created.id()).orElseThrow(), later)).isInstanceOfSatisfying(CloseResult.Closed.class,
                closed -> assertThat(closed.transition().orElseThrow().reason()).isEqualTo(TransitionReason.STALE_SESSION));
        assertThat(sessions.findAgent(agent).orElseThrow().lastClose().orElseThrow().reason()).isEqualTo(CloseReason.STALE);
        assertThat(sessions.findSession(created.id()).orElseThrow().closeReason()).contains(CloseReason.STALE);
    }

    // --- transitions ---

    /** A PENDING transition of a closed session, under the closer's claim until {@code lease}. */
    SessionId pendingTransition(Instant at, Instant lease) {
        NewSession created = session(newAgent(), SessionToken.random(RANDOM), at);
        sessions.createSession(created);
        sessions.close(sessions.findSession(created.id()).orElseThrow(),
                new CloseRequest(created.id(), CloseReason.TAB_CLOSED, Optional.empty(), at, Exemption.NOT_EXEMPT, "closer", lease, Optional.empty()));
        return created.id();
    }

    @Test
    void claim_should_takeADueTransition_once_andGiveARetriedClaimItsOwnBack() {
        Instant at = T0.plus(Duration.ofDays(1));
        SessionId id = pendingTransition(at, at.plusSeconds(10));

        assertThat(transitions.claim(id, "sweep-1", at.plusSeconds(9), at.plusSeconds(40))).as("the closer's lease holds").isEmpty();
        Transition claimed = transitions.claim(id, "sweep-1", at.plusSeconds(10), at.plusSeconds(40)).orElseThrow();
        assertThat(claimed.claim()).contains("sweep-1");
        assertThat(claimed.nextAttemptAt()).isEqualTo(at.plusSeconds(40));
        assertThat(transitions.claim(id, "sweep-1", at.plusSeconds(11), at.plusSeconds(41))).as("a retried claim that landed is ours")
                .hasValueSatisfying(t -> assertThat(t.claim()).contains("sweep-1"));
        assertThat(transitions.claim(id, "sweep-2", at.plusSeconds(11), at.plusSeconds(41))).as("another sweep's claim meanwhile").isEmpty();
        assertThat(transitions.claim(SessionId.random(RANDOM), "sweep-1", at, at.plusSeconds(1))).isEmpty();
    }

    @Test
    void complete_should_endATransitionUnderItsClaim_only_andTakeItOutOfTheDueIndex() {
        Instant at = T0.plus(Duration.ofDays(2));
        SessionId id = pendingTransition(at, at.plusSeconds(10));

        assertThatThrownBy(() -> transitions.completeTransition(id, "closer", TransitionState.PENDING, 1, false, Optional.empty(), at, Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(transitions.completeTransition(id, "someone-else", TransitionState.DONE, 1, false, Optional.empty(), at, Optional.empty())).isFalse();
        assertThat(transitions.completeTransition(id, "closer", TransitionState.DONE, 2, true, Optional.of("slow"), at.plusSeconds(1), Optional.empty())).isTrue();

        Transition done = transitions.findTransition(id).orElseThrow();
        assertThat(done.state()).isEqualTo(TransitionState.DONE);
        assertThat(done.attempts()).isEqualTo(2);
        assertThat(done.deferred()).isTrue();
        assertThat(done.lastError()).contains("slow");
        assertThat(done.completedAt()).contains(at.plusSeconds(1));
        assertThat(done.claim()).isEmpty();
        Map<String, AttributeValue> raw = item("TRANSITION#" + id.value(), "TRANSITION");
        assertThat(raw).doesNotContainKey("dueShard");
        assertThat(raw.get("writtenBy").s()).isEqualTo("closer");
        assertThat(raw.get("expiresAt").n()).as("ended transitions stay 30 days for audit")
                .isEqualTo(String.valueOf(at.plusSeconds(1).plus(Duration.ofDays(30)).getEpochSecond()));
        assertThat(transitions.completeTransition(id, "late", TransitionState.FAILED, 3, false, Optional.empty(), at, Optional.empty())).as("ended: final").isFalse();
        assertThat(transitions.completeTransition(id, "closer", TransitionState.DONE, 2, true, Optional.of("slow"), at.plusSeconds(1), Optional.empty()))
                .as("the closer's own write, retried after its answer was lost, is recognised as landed").isTrue();
        assertThat(transitions.findTransition(id).orElseThrow().state()).isEqualTo(TransitionState.DONE);
    }

    @Test
    void slowLane_release_andFailedAttempt_should_moveTheTransitionAsTheirNamesSay_underTheClaimOnly() {
        Instant at = T0.plus(Duration.ofDays(3));
        SessionId id = pendingTransition(at, at.plusSeconds(10));

        assertThat(transitions.recordFailedAttempt(id, "other", 1, "x", at, false)).isFalse();
        assertThat(transitions.recordFailedAttempt(id, "closer", 1, "ThrottlingException", at.plusSeconds(30), false)).isTrue();
        Transition failedOnce = transitions.findTransition(id).orElseThrow();
        assertThat(failedOnce.state()).isEqualTo(TransitionState.PENDING);
        assertThat(failedOnce.attempts()).isEqualTo(1);
        assertThat(failedOnce.lastError()).contains("ThrottlingException");
        assertThat(failedOnce.nextAttemptAt()).isEqualTo(at.plusSeconds(30));
        assertThat(failedOnce.claim()).as("the claim is given back with the attempt").isEmpty();

        transitions.claim(id, "sweep", at.plusSeconds(30), at.plusSeconds(60)).orElseThrow();
        assertThat(transitions.releaseClaim(id, "other", at.plusSeconds(31))).isFalse();
        assertThat(transitions.releaseClaim(id, "sweep", at.plusSeconds(31))).isTrue();
        assertThat(transitions.findTransition(id).orElseThrow().nextAttemptAt()).as("due again at once").isEqualTo(at.plusSeconds(31));
        assertThat(transitions.findTransition(id).orElseThrow().claim()).isEmpty();

        transitions.claim(id, "sweep", at.plusSeconds(31), at.plusSeconds(60)).orElseThrow();
        assertThat(transitions.failIntoSlowLane(id, "other", 5, "y", at, at, false, Optional.empty())).isFalse();
        assertThat(transitions.failIntoSlowLane(id, "sweep", 5, "AccessDenied", at.plusSeconds(40), at.plusSeconds(940), false, Optional.empty())).isTrue();
        Transition failed = transitions.findTransition(id).orElseThrow();
        assertThat(failed.state()).isEqualTo(TransitionState.FAILED);
        assertThat(failed.attempts()).isEqualTo(5);
        assertThat(failed.lastError()).contains("AccessDenied");
        assertThat(failed.completedAt()).contains(at.plusSeconds(40));
        assertThat(failed.nextAttemptAt()).isEqualTo(at.plusSeconds(940));
        assertThat(transitions.findDueTransitions(TableLayout.shard(id), at.plusSeconds(940), 1000)).as("still in the due index")
                .anyMatch(t -> t.sessionId().equals(id));

        transitions.claim(id, "slow", at.plusSeconds(940), at.plusSeconds(970)).orElseThrow();
        assertThat(transitions.failIntoSlowLane(id, "slow", 6, "AccessDenied", at.plusSeconds(950), at.plusSeconds(1850), false, Optional.empty())).isTrue();
        assertThat(transitions.findTransition(id).orElseThrow().completedAt()).as("when it first failed, kept").contains(at.plusSeconds(40));
        assertThat(transitions.recordFailedAttempt(id, "late", 7, "z", at, false)).as("FAILED is not PENDING").isFalse();
        assertThat(transitions.recordFailedAttempt(id, "slow", 6, "AccessDenied", at.plusSeconds(1850), false))
                .as("the slow lane's own write, retried after its answer was lost, is recognised as landed").isTrue();
        assertThat(transitions.findTransition(id).orElseThrow().state()).isEqualTo(TransitionState.FAILED);
    }

    @Test
    void handOverCount_should_growByOneACount_fromAnyStoreInstance_whatTheReconcilersLookSees() {
        long before = transitions.handOvers();
        DynamoTransitionStore anotherContainer = new DynamoTransitionStore(dynamoDb, table);

        transitions.countHandOver();
        anotherContainer.countHandOver();
        anotherContainer.countHandOver();

        assertThat(transitions.handOvers() - before).as("an atomic ADD: every container's count lands").isEqualTo(3);
        assertThat(item("HANDOVERS", "HANDOVERS")).containsOnlyKeys("pk", "sk", "handOvers")
                .as("no index key: the count is never swept or listed").doesNotContainKeys("dueShard", "openShard");
    }

    @Test
    void countDueTransitions_should_countEveryShardsDueWork_andNothingNotYetDue() {
        Instant at = T0.minus(Duration.ofDays(800)); // before any other test's transitions
        long before = transitions.countDueTransitions(at.plusSeconds(100));
        for (int i = 0; i < 5; i++) {
            pendingTransition(at, at.plusSeconds(10 + i));
        }
        assertThat(transitions.countDueTransitions(at.plusSeconds(12)) - before).isEqualTo(3);
        assertThat(transitions.countDueTransitions(at.plusSeconds(100)) - before).isEqualTo(5);
    }
}
