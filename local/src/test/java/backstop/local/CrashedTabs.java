package backstop.local;

import backstop.core.agent.AgentRef;
import backstop.core.session.DynamoSessionStore;
import backstop.core.session.Exemption;
import backstop.core.session.NewSession;
import backstop.core.session.SessionId;
import backstop.core.session.SessionToken;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;

/** What a wave of crashes leaves: agents Available in Connect, each with one OPEN session silent since a moment. */
public final class CrashedTabs {
    private CrashedTabs() {
    }

    /**
     * Adds {@code count} agents (user ids {@code prefix-<uuid>}, routing profile rp-support, Available) and one
     * session each, written straight to the table with its last heartbeat at {@code silentSince}. Returns each
     * user id with its session id, in order.
     */
    public static Map<String, SessionId> seed(LocalStack stack, int count, String prefix, Instant silentSince) {
        DynamoSessionStore store = new DynamoSessionStore(stack.clients().dynamoDb(), stack.config().sessionsTable());
        SecureRandom random = new SecureRandom();
        Map<String, SessionId> sessions = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            String user = prefix + "-" + UUID.randomUUID();
            stack.connect().addAgent(stack.instanceId(), user, user, "Crashed", "Agent", "rp-support", "Available");
            sessions.put(user, SessionId.random(random));
        }
        try (var executor = Executors.newFixedThreadPool(8)) {
            sessions.forEach((user, id) -> executor.submit(() -> store.createSession(new NewSession(id,
                    AgentRef.parseArn(DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + user).orElseThrow(),
                    SessionToken.random(random).hash(), silentSince, Optional.empty(),
                    Optional.of(new NewSession.CheckedUser(user, Optional.of("rp-support"))), Exemption.NOT_EXEMPT,
                    Optional.empty(), Integer.MAX_VALUE))));
        }
        return sessions;
    }
}
