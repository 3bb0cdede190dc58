package backstop.beacon;

import backstop.core.config.BackstopConfig;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.connect.ConnectFailure;
import backstop.core.events.BackstopEvent;
import backstop.core.events.EventBridgePublisher;
import backstop.core.http.HttpRequest;
import backstop.core.http.HttpResponse;
import backstop.core.random.RestoreSafeRandom;
import backstop.core.snapstart.SnapStartHooks;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SnapStart hooks of the beacon ({@link SnapStartHooks}). Before the snapshot, the close path runs end to end once, without side
 * effects: a close beacon for a session that cannot exist (JSON parsing, validation, a DynamoDB GetItem
 * through the real client, the error answer), a register refused before any I/O, Connect's ListAgentStatuses
 * (read-only; caches the OFFLINE-type status id, which does not change) and an event entry built but never sent.
 * The classes, TLS session set-up and JIT work this loads land in the snapshot instead of the first agent's
 * close. After a restore, the random source is reseeded so restored copies never share ids, tokens or claims.
 */
public final class BeaconPriming extends SnapStartHooks {

    private final BackstopConfig config;
    private final BeaconApi api;
    private final ConnectAgentStatus connect;
    private final EventBridgePublisher events;

    public BeaconPriming(BackstopConfig config, BeaconApi api, ConnectAgentStatus connect, EventBridgePublisher events,
                         RestoreSafeRandom random) {
        super(random);
        this.config = config;
        this.api = api;
        this.connect = connect;
        this.events = events;
    }

    @Override
    public List<String> prime() {
        List<String> steps = new ArrayList<>();
        Map<String, String> headers = new HashMap<>();
        headers.put("content-type", "text/plain;charset=UTF-8");
        config.allowedOrigins().stream().findFirst().ifPresent(origin -> headers.put("origin", origin));
        // A session id no register ever hands out (ids are random; this one is fixed and all zeros).
        String noSuchSession = "AAAAAAAAAAAAAAAAAAAAAA";
        HttpResponse close = api.handle(new HttpRequest(BeaconApi.CLOSE, Map.of("sessionId", noSuchSession), headers,
                ("{\"token\":\"" + "A".repeat(43) + "\",\"reason\":\"pagehide\",\"status\":{\"name\":\"Available\"}}")
                        .getBytes(StandardCharsets.UTF_8)));
        steps.add("close of an unknown session -> " + close.status());
        HttpResponse register = api.handle(new HttpRequest(BeaconApi.REGISTER, Map.of(), headers,
                "{\"agentArn\":\"arn:aws:connect:us-east-1:000000000000:instance/not-this-instance/agent/priming\"}"
                        .getBytes(StandardCharsets.UTF_8), Map.of(config.agentIdentityClaim(), "priming")));
        steps.add("register for a foreign instance -> " + register.status());
        try {
            connect.offlineStatusId();
            steps.add("ListAgentStatuses -> offline status cached");
        } catch (ConnectFailure failure) {
            steps.add("ListAgentStatuses -> " + failure.code());
        }
        events.entry(new BackstopEvent.AgentSetOffline(config.connectInstance().arn() + "/agent/priming", "priming",
                noSuchSession, "tab-closed", 1, java.util.Optional.empty(), false, Instant.EPOCH));
        steps.add("event entry built, not sent");
        return steps;
    }
}
