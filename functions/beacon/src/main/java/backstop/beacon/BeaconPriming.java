package backstop.beacon;

import backstop.core.config.BackstopConfig;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.events.BackstopEvent;
import backstop.core.events.EventBridgePublisher;
import backstop.core.http.HttpRequest;
import backstop.core.http.HttpResponse;
import backstop.core.random.RestoreSafeRandom;
import backstop.core.session.SessionId;
import backstop.core.session.SessionStore;
import backstop.core.snapstart.PrimingSteps;
import backstop.core.snapstart.SnapStartHooks;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * SnapStart hooks of the beacon ({@link SnapStartHooks}). Before the snapshot, the close path runs end to end once, without side
 * effects: the credentials resolved as the first call would, a DynamoDB GetItem of a session that cannot exist
 * (its failure is judged: a missing table or a refusal fails the priming), a close beacon for that session
 * through the API (JSON parsing, validation, the same read, the error answer), a register refused before any
 * I/O, Connect's ListAgentStatuses (read-only; caches the OFFLINE-type status id, which does not change) and an
 * event entry built but never sent.
 * The classes, TLS session set-up and JIT work this loads land in the snapshot instead of the first agent's
 * close. After a restore, the random source is reseeded so restored copies never share ids, tokens or claims.
 */
public final class BeaconPriming extends SnapStartHooks {

    /** A session id no register ever hands out (ids are random; this one is fixed and all zeros). */
    static final String NO_SUCH_SESSION = "AAAAAAAAAAAAAAAAAAAAAA";

    private final BackstopConfig config;
    private final BeaconApi api;
    private final SessionStore sessions;
    private final ConnectAgentStatus connect;
    private final EventBridgePublisher events;
    private final PrimingSteps.Step credentials;

    /** {@code credentials} resolves the clients' credentials (see {@code AwsClients.resolveCredentials}). */
    public BeaconPriming(BackstopConfig config, BeaconApi api, SessionStore sessions, ConnectAgentStatus connect,
                         EventBridgePublisher events, PrimingSteps.Step credentials, RestoreSafeRandom random) {
        super(random);
        this.config = config;
        this.api = api;
        this.sessions = sessions;
        this.connect = connect;
        this.events = events;
        this.credentials = credentials;
    }

    @Override
    protected void prime(PrimingSteps steps) {
        steps.require("credentials", () -> {
            credentials.run();
            return "resolved";
        });
        steps.run("DynamoDB GetItem of an unknown session",
                () -> sessions.findSession(new SessionId(NO_SUCH_SESSION)).isEmpty() ? "none" : "found");
        Map<String, String> headers = new HashMap<>();
        headers.put("content-type", "text/plain;charset=UTF-8");
        config.allowedOrigins().stream().findFirst().ifPresent(origin -> headers.put("origin", origin));
        HttpResponse close = api.handle(new HttpRequest(BeaconApi.CLOSE, Map.of("sessionId", NO_SUCH_SESSION), headers,
                ("{\"token\":\"" + "A".repeat(43) + "\",\"reason\":\"pagehide\",\"status\":{\"name\":\"Available\"}}")
                        .getBytes(StandardCharsets.UTF_8)));
        steps.note("close of an unknown session -> " + close.status());
        HttpResponse register = api.handle(new HttpRequest(BeaconApi.REGISTER, Map.of(), headers,
                "{\"agentArn\":\"arn:aws:connect:us-east-1:000000000000:instance/not-this-instance/agent/priming\"}"
                        .getBytes(StandardCharsets.UTF_8), Map.of(config.agentIdentityClaim(), "priming")));
        steps.note("register for a foreign instance -> " + register.status());
        steps.run("ListAgentStatuses", () -> {
            connect.offlineStatusId();
            return "offline status cached";
        });
        events.entry(new BackstopEvent.AgentSetOffline(config.connectInstance().arn() + "/agent/priming", "priming",
                NO_SUCH_SESSION, "tab-closed", 1, java.util.Optional.empty(), false, Instant.EPOCH));
        steps.note("event entry built, not sent");
    }
}
