package backstop.core.config;

import backstop.core.agent.InstanceRef;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The configuration both functions share, read once from the environment at start-up and validated there:
 * a wrong value stops the function with a message that names the variable, instead of failing a request later.
 * template.yaml sets every variable named here (see {@link #VARIABLES}).
 */
public record BackstopConfig(
        String region,
        InstanceRef connectInstance,
        List<String> allowedOrigins,
        String sessionsTable,
        String eventBusName,
        int heartbeatSeconds,
        int staleAfterSeconds,
        int reloadWindowSeconds,
        ReloadPolicy reloadPolicy,
        double connectRatePerSecond,
        int maxAttempts,
        Set<String> exemptRoutingProfileIds,
        int sweepIntervalSeconds,
        String agentIdentityClaim,
        int maxSessionsPerAgent,
        OutageBrake outageBrake,
        boolean taggedSessionIds,
        int maxSessionHours) {

    /**
     * When stale sessions are held instead of closed: more than {@code share} of the open sessions silent at once
     * (missed heartbeats) and at least {@code minimum} of them; a hold lasts at most {@code maxHoldMinutes}
     * (0: until heartbeats come back). And while the heartbeat route is flooded: refused heartbeats in a window at
     * half or more of what {@code heartbeatRouteRate} (the route's throttle, requests a second; 0: no flood signal)
     * lets through in it; then every stale session is held, with no time limit, until a stale limit after the flood.
     */
    public record OutageBrake(double share, int minimum, int maxHoldMinutes, int heartbeatRouteRate) {
        public static final OutageBrake DEFAULT = new OutageBrake(0.3, 5, 30, 200);
        /** Never engages (tests of the stale sweep alone). */
        public static final OutageBrake OFF = new OutageBrake(1.0, Integer.MAX_VALUE, 0, 0);
    }

    /**
     * One browser origin as a browser sends it in {@code Origin}: scheme, lower-case host and an optional port, nothing
     * after (no path, not even a trailing slash, which would never match). template.yaml's AllowedOrigins has this
     * pattern (TemplateTest checks), so a deploy refuses what the functions would refuse at start.
     */
    public static final String ORIGIN_PATTERN =
            "https?://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?";
    private static final java.util.regex.Pattern ORIGIN = java.util.regex.Pattern.compile(ORIGIN_PATTERN);

    /** Every variable read here; the template contract test checks the template sets exactly these. */
    public static final List<String> VARIABLES = List.of("AWS_REGION", "CONNECT_INSTANCE_ARN", "ALLOWED_ORIGINS",
            "SESSIONS_TABLE", "EVENT_BUS_NAME", "HEARTBEAT_SECONDS", "STALE_AFTER_SECONDS", "RELOAD_WINDOW_SECONDS",
            "RELOAD_POLICY", "CONNECT_RATE_PER_SECOND", "MAX_ATTEMPTS", "EXEMPT_ROUTING_PROFILE_IDS",
            "SWEEP_INTERVAL_SECONDS", "AGENT_IDENTITY_CLAIM", "MAX_SESSIONS_PER_AGENT", "HEARTBEAT_OUTAGE_SHARE",
            "HEARTBEAT_OUTAGE_MINIMUM", "HEARTBEAT_OUTAGE_MAX_HOLD_MINUTES", "HEARTBEAT_ROUTE_RATE", "TAGGED_SESSION_IDS",
            "MAX_SESSION_HOURS");

    /** The one claim register accepts only with {@code email_verified} true. */
    public static final String EMAIL_CLAIM = "email";
    /**
     * Claims that most identity providers let their users set themselves (Cognito's standard attributes unless the
     * app client's write attributes leave them out, Entra's email of a guest, any self-service profile): as the
     * identity claim, a user could name a colleague. README, "Agent identity", says which claim to use instead.
     */
    static final Set<String> USER_EDITABLE_CLAIMS = Set.of("preferred_username", EMAIL_CLAIM, "name", "nickname", "given_name",
            "family_name", "unique_name");

    public BackstopConfig {
        allowedOrigins = List.copyOf(allowedOrigins);
        exemptRoutingProfileIds = Set.copyOf(exemptRoutingProfileIds);
        if (staleAfterSeconds <= heartbeatSeconds) {
            throw new IllegalArgumentException("STALE_AFTER_SECONDS (" + staleAfterSeconds
                    + ") must be greater than HEARTBEAT_SECONDS (" + heartbeatSeconds + "), or live tabs would look stale");
        }
    }

    public static BackstopConfig fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /** Reads and validates every variable, reporting all problems at once. */
    public static BackstopConfig fromEnvironment(Map<String, String> env) {
        Reader reader = new Reader(env);
        BackstopConfig config = null;
        String region = reader.required("AWS_REGION", s -> s);
        InstanceRef instance = reader.required("CONNECT_INSTANCE_ARN", InstanceRef::parseArn);
        List<String> origins = reader.optional("ALLOWED_ORIGINS", "", BackstopConfig::origins);
        String table = reader.required("SESSIONS_TABLE", s -> s);
        String bus = reader.required("EVENT_BUS_NAME", s -> s);
        Integer heartbeat = reader.optional("HEARTBEAT_SECONDS", "30", s -> range(s, 5, 300));
        Integer stale = reader.optional("STALE_AFTER_SECONDS", "75", s -> range(s, 10, 3600));
        Integer reload = reader.optional("RELOAD_WINDOW_SECONDS", "30", s -> range(s, 0, 600));
        ReloadPolicy policy = reader.optional("RELOAD_POLICY", "restore", ReloadPolicy::parse);
        Double rate = reader.optional("CONNECT_RATE_PER_SECOND", "1.5", BackstopConfig::rate);
        Integer attempts = reader.optional("MAX_ATTEMPTS", "8", s -> range(s, 1, 50));
        Set<String> exempt = reader.optional("EXEMPT_ROUTING_PROFILE_IDS", "", BackstopConfig::ids);
        Integer sweep = reader.optional("SWEEP_INTERVAL_SECONDS", "15", s -> range(s, 1, 60));
        String identityClaim = reader.optional("AGENT_IDENTITY_CLAIM", "preferred_username", BackstopConfig::claimName);
        Integer maxSessions = reader.optional("MAX_SESSIONS_PER_AGENT", "4", s -> range(s, 1, 20));
        Double outageShare = reader.optional("HEARTBEAT_OUTAGE_SHARE", "0.3", BackstopConfig::share);
        Integer outageMinimum = reader.optional("HEARTBEAT_OUTAGE_MINIMUM", "5", s -> range(s, 2, 1_000_000));
        Integer outageMaxHold = reader.optional("HEARTBEAT_OUTAGE_MAX_HOLD_MINUTES", "30", s -> range(s, 0, 1440));
        Integer routeRate = reader.optional("HEARTBEAT_ROUTE_RATE", "200", s -> range(s, 0, 1_000_000));
        Boolean tagged = reader.optional("TAGGED_SESSION_IDS", "off", BackstopConfig::onOff);
        // A 9-hour shift (8:00 to 17:00) and an hour's overtime; at most three days, or a stolen token lives that long.
        Integer maxSessionHours = reader.optional("MAX_SESSION_HOURS", "10", s -> range(s, 1, 72));
        if (reader.problems.isEmpty()) {
            try {
                config = new BackstopConfig(region, instance, origins, table, bus, heartbeat, stale, reload, policy,
                        rate, attempts, exempt, sweep, identityClaim, maxSessions,
                        new OutageBrake(outageShare, outageMinimum, outageMaxHold, routeRate), tagged, maxSessionHours);
            } catch (IllegalArgumentException e) {
                reader.problems.add(e.getMessage());
            }
        }
        if (!reader.problems.isEmpty()) {
            throw new IllegalStateException("Invalid configuration: " + String.join("; ", reader.problems));
        }
        return config;
    }

    /**
     * A warning for start-up when {@code AGENT_IDENTITY_CLAIM} is a claim users can often set themselves: it is
     * allowed (many Connect usernames are e-mails or UPNs that only such claims carry), but it is only safe when the
     * identity provider lets nobody but an administrator change it.
     */
    public Optional<String> identityClaimWarning() {
        if (!USER_EDITABLE_CLAIMS.contains(agentIdentityClaim)) {
            return Optional.empty();
        }
        return Optional.of("AGENT_IDENTITY_CLAIM is " + agentIdentityClaim + ", a claim many identity providers let"
                + " users change themselves: anyone who can set theirs to a colleague's Connect username can register for"
                + " that colleague. Make sure only administrators can set it (README, Agent identity), or use a claim"
                + " they cannot change" + (EMAIL_CLAIM.equals(agentIdentityClaim) ? " (email is accepted only with email_verified true)" : ""));
    }

    /** How long a session may live before its heartbeats are refused (410 {@code session_expired}) and the page registers again. */
    public backstop.core.session.SessionLifetime sessionLifetime() {
        return backstop.core.session.SessionLifetime.ofHours(maxSessionHours);
    }

    /** Whether a browser {@code Origin} may call the API (no Origin header at all is judged by the token alone). */
    public boolean allowsOrigin(String origin) {
        return allowedOrigins.contains(origin);
    }

    private static List<String> origins(String text) {
        List<String> origins = new ArrayList<>();
        for (String origin : text.split(",")) {
            String trimmed = origin.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            if (!ORIGIN.matcher(trimmed).matches()) {
                throw new IllegalArgumentException("'" + trimmed + "' is not an origin like https://ccp.example.com"
                        + " (scheme and lower-case host, an optional port, no path or trailing slash)");
            }
            origins.add(trimmed);
        }
        return origins;
    }

    /** A JWT claim name as API Gateway passes claims on: a plain name such as preferred_username or cognito:username. */
    private static String claimName(String text) {
        String name = text.trim();
        if (!name.matches("[A-Za-z0-9_:.\\-/]{1,128}")) {
            throw new IllegalArgumentException("'" + text + "' is not a claim name like preferred_username");
        }
        return name;
    }

    private static Set<String> ids(String text) {
        return Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toSet());
    }

    private static int range(String text, int min, int max) {
        int value;
        try {
            value = Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a whole number");
        }
        if (value < min || value > max) {
            throw new IllegalArgumentException(value + " is outside " + min + ".." + max);
        }
        return value;
    }

    private static boolean onOff(String text) {
        return switch (text.trim()) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException("'" + text + "' is not on or off");
        };
    }

    private static double share(String text) {
        double value = number(text);
        if (!(value >= 0.05 && value <= 1)) {
            throw new IllegalArgumentException(value + " is outside [0.05, 1]");
        }
        return value;
    }

    private static double rate(String text) {
        double value = number(text);
        if (!(value > 0 && value <= 100)) {
            throw new IllegalArgumentException(value + " is outside (0, 100]");
        }
        return value;
    }

    private static double number(String text) {
        try {
            return Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a number");
        }
    }

    private static final class Reader {
        final Map<String, String> env;
        final List<String> problems = new ArrayList<>();

        Reader(Map<String, String> env) {
            this.env = env;
        }

        <T> T required(String name, Function<String, T> parse) {
            String value = env.get(name);
            if (value == null || value.isBlank()) {
                problems.add(name + " is required");
                return null;
            }
            return parse(name, value, parse);
        }

        <T> T optional(String name, String fallback, Function<String, T> parse) {
            String value = env.get(name);
            return parse(name, value == null || value.isBlank() ? fallback : value, parse);
        }

        private <T> T parse(String name, String value, Function<String, T> parse) {
            try {
                return parse.apply(value);
            } catch (IllegalArgumentException e) {
                problems.add(name + ": " + e.getMessage());
                return null;
            }
        }
    }
}
