package backstop.beacon;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;
import backstop.core.config.BackstopConfig;
import backstop.core.http.ApiError;
import backstop.core.http.HttpRequest;
import backstop.core.http.HttpResponse;
import backstop.core.json.Json;
import backstop.core.json.JsonException;
import backstop.core.json.JsonObject;
import backstop.core.session.CloseReason;
import backstop.core.session.RefusedHeartbeats;
import backstop.core.session.SessionId;
import backstop.core.session.SessionToken;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The HTTP edge of the three routes: content type, size, origin, JSON shape, then one service call, then
 * the status code and body of the contract. Everything a client sent wrong is a 4xx with our own message.
 */
public final class BeaconApi {
    private static final Logger LOG = LoggerFactory.getLogger(BeaconApi.class);
    public static final String REGISTER = "POST /sessions";
    public static final String HEARTBEAT = "POST /sessions/{sessionId}/heartbeat";
    public static final String CLOSE = "POST /sessions/{sessionId}/close";
    public static final int MAX_BODY_BYTES = 4096;
    static final java.math.BigDecimal MAX_CROWDED_MS = java.math.BigDecimal.valueOf(86_400_000L);

    private final BackstopConfig config;
    private final BeaconService service;
    private final RefusalMeter refusals;

    /** Counting refusals nowhere (tests of the routes alone). */
    public BeaconApi(BackstopConfig config, BeaconService service) {
        this(config, service, new RefusalMeter(RefusedHeartbeats.NONE, java.time.Clock.systemUTC(),
                Duration.ofSeconds(config.heartbeatSeconds()), new java.util.Random(0)));
    }

    public BeaconApi(BackstopConfig config, BeaconService service, RefusalMeter refusals) {
        this.config = config;
        this.service = service;
        this.refusals = refusals;
    }

    public HttpResponse handle(HttpRequest request) {
        HttpResponse response = respond(request);
        if (HEARTBEAT.equals(request.route())) {
            refusals.observe(isRefusal(response.status()));
        }
        return response;
    }

    /**
     * Whether a heartbeat's answer says it did not come from a real page: a client error other than "closed" (410:
     * a real page whose session ended); never a 5xx (our own failure). The flood's footprint ({@link RefusalMeter}).
     */
    static boolean isRefusal(int status) {
        return status >= 400 && status < 500 && status != 410;
    }

    private HttpResponse respond(HttpRequest request) {
        try {
            checkOrigin(request);
            return switch (request.route()) {
                case REGISTER -> register(request.claims(), body(request));
                case HEARTBEAT -> heartbeat(sessionId(request), body(request));
                case CLOSE -> close(sessionId(request), body(request));
                default -> HttpResponse.error(ApiError.notFound("no such route"));
            };
        } catch (ApiError e) {
            return HttpResponse.error(e);
        } catch (JsonException e) {
            return HttpResponse.error(ApiError.badRequest(e.getMessage()));
        } catch (RuntimeException e) {
            LOG.error("{} failed for session {}", request.route(), request.pathParameters().get("sessionId"), e);
            return HttpResponse.error(new ApiError(500, "internal", "the backstop could not handle this request; try again"));
        }
    }

    private HttpResponse register(Map<String, String> identity, JsonObject body) {
        String agentArn = body.requiredString("agentArn", 256);
        Optional<AgentStatus> status = status(body);
        AgentRef agent = AgentRef.parseArn(agentArn).orElseThrow(() -> ApiError.badRequest(
                "agentArn must be an agent ARN: arn:aws:connect:<region>:<account>:instance/<id>/agent/<userId>"));
        return switch (service.register(identity, agent, status)) {
            case BeaconService.Registration registration -> HttpResponse.json(201, registrationJson(registration));
            case BeaconService.Refused refused -> HttpResponse.error(error(config, refused));
        };
    }

    private static Map<String, Object> registrationJson(BeaconService.Registration registration) {
        Map<String, Object> response = new LinkedHashMap<>();
        response.put("sessionId", registration.sessionId().value());
        response.put("token", registration.token().reveal());
        response.put("heartbeatSeconds", registration.heartbeatSeconds());
        response.put("staleAfterSeconds", registration.staleAfterSeconds());
        response.put("restore", registration.restore().map(BeaconApi::statusJson).orElse(null));
        response.put("otherSessions", registration.otherSessions());
        response.put("expiresAt", registration.expiresAt().toString());
        return response;
    }

    private HttpResponse heartbeat(SessionId id, JsonObject body) {
        return switch (service.heartbeat(id, token(body), status(body), crowdedAgo(body))) {
            case BeaconService.Beat beat -> HttpResponse.json(200, Map.of("otherSessions", beat.otherSessions()));
            case BeaconService.Refused refused -> HttpResponse.error(error(config, refused));
        };
    }

    private HttpResponse close(SessionId id, JsonObject body) {
        CloseReason reason = CloseReason.fromBeacon(body.string("reason", 32).orElse("pagehide"));
        return switch (service.close(id, token(body), reason, status(body))) {
            case BeaconService.Closed closed -> HttpResponse.json(202, Map.of("offline", closed.offline().value()));
            case BeaconService.Refused refused -> HttpResponse.error(error(config, refused));
        };
    }

    /**
     * The contract's answer to each refusal of the service: status, code and message. A switch with no default,
     * so a new {@link Refusal} does not compile until it has its answer here.
     */
    static ApiError error(BackstopConfig config, BeaconService.Refused refused) {
        return switch (refused.refusal()) {
            case UNAUTHENTICATED -> new ApiError(401, "unauthenticated", "sign in: registering needs the identity provider's token");
            case FOREIGN_INSTANCE -> ApiError.forbidden("foreign_instance", "this backstop serves another Connect instance");
            case IDENTITY_CLAIM_MISSING -> ApiError.forbidden("identity_claim_missing", "the token has no "
                    + config.agentIdentityClaim() + " claim to compare with the agent's Connect username");
            case IDENTITY_CLAIM_UNVERIFIED -> ApiError.forbidden("identity_claim_unverified",
                    "the token's email is not verified by the identity provider (email_verified is not true), so it cannot name the agent");
            case UNKNOWN_AGENT -> ApiError.forbidden("unknown_agent", "no such agent in this Connect instance");
            case IDENTITY_UNVERIFIABLE -> new ApiError(503, "identity_unverified", "the agent's identity cannot be checked right now; try again shortly");
            case IDENTITY_MISMATCH -> ApiError.forbidden("identity_mismatch", "the signed-in user is not the agent in agentArn");
            case TOO_MANY_SESSIONS -> new ApiError(429, "too_many_sessions", "this agent already has " + refused.openSessions()
                    + " open CCP sessions; close one, or wait until a closed one is noticed (at most "
                    + (config.staleAfterSeconds() + config.sweepIntervalSeconds()) + " s)");
            case UNKNOWN_SESSION -> ApiError.notFound("no such session");
            case BAD_TOKEN -> ApiError.forbidden("bad_token", "the token does not belong to this session");
            case SESSION_CLOSED -> new ApiError(410, "session_closed", "the session is closed; register again");
            case SESSION_EXPIRED -> new ApiError(410, "session_expired", "the session reached its maximum age; register again");
            case HEARTBEAT_TOO_FREQUENT -> new ApiError(429, "too_many_heartbeats", "heartbeats come too often for this session");
        };
    }

    private void checkOrigin(HttpRequest request) {
        // A beacon from any page reaches us (text/plain needs no preflight); a browser always says where from.
        Optional<String> origin = request.header("origin");
        if (origin.isPresent() && !config.allowsOrigin(origin.get())) {
            throw ApiError.forbidden("origin_not_allowed", "requests from this origin are not accepted");
        }
    }

    private static JsonObject body(HttpRequest request) {
        if (request.body().length > MAX_BODY_BYTES) {
            throw new ApiError(413, "payload_too_large", "the body must be at most " + MAX_BODY_BYTES + " bytes");
        }
        String type = request.header("content-type").orElse("").toLowerCase(Locale.ROOT);
        String mediaType = type.split(";", 2)[0].trim();
        if (!mediaType.equals("text/plain") && !mediaType.equals("application/json")) {
            throw new ApiError(415, "unsupported_media_type", "send JSON as text/plain or application/json");
        }
        return Json.parseObject(request.body());
    }

    private static SessionId sessionId(HttpRequest request) {
        String raw = request.pathParameters().get("sessionId");
        if (!SessionId.isWellFormed(raw)) {
            throw ApiError.badRequest("the session id in the path is malformed");
        }
        return new SessionId(raw);
    }

    /**
     * {@code crowdedMsAgo}: milliseconds since the page's last 429, sent while it has not landed a beat since (a
     * whole number, 0 or more; anything over a day is read as a day: a page asleep since says nothing of now, and
     * must not be refused for it); absent when it was not throttled.
     */
    private static Optional<Duration> crowdedAgo(JsonObject body) {
        return body.number("crowdedMsAgo").map(ms -> {
            if (ms.signum() < 0 || ms.stripTrailingZeros().scale() > 0) {
                throw ApiError.badRequest("crowdedMsAgo must be a whole number of milliseconds, 0 or more");
            }
            return Duration.ofMillis(ms.min(MAX_CROWDED_MS).longValueExact());
        });
    }

    private SessionToken token(JsonObject body) {
        String text = body.requiredString("token", 64);
        try {
            return SessionToken.parse(text);
        } catch (IllegalArgumentException e) {
            // A token that is no token at all is answered as any token that is not the session's.
            throw error(config, new BeaconService.Refused(Refusal.BAD_TOKEN));
        }
    }

    private static Optional<AgentStatus> status(JsonObject body) {
        return body.object("status").map(status -> {
            try {
                return new AgentStatus(status.requiredString("name", AgentStatus.MAX_NAME),
                        status.string("arn", AgentStatus.MAX_ARN).orElse(null));
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest(e.getMessage());
            }
        });
    }

    private static Map<String, Object> statusJson(AgentStatus status) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("name", status.name());
        json.put("arn", status.arn());
        return json;
    }
}
