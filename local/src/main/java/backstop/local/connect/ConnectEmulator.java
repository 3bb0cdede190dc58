package backstop.local.connect;

import backstop.core.connect.TokenBucket;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An HTTP server that speaks Amazon Connect's restJson1 wire contract for the six operations the backstop
 * (and its tests) use, so the real AWS SDK and the AWS CLI talk to it unchanged through an endpoint override.
 *
 * <p>What it reproduces: the service's paths, query and body members, response shapes (timestamps as epoch
 * seconds), NextToken pagination, errors as the service encodes them (status, {@code x-amzn-ErrorType},
 * {@code {"Message"}}), a SigV4 {@code Authorization} header being required (the signature is not checked; who
 * signed and for which Region is recorded on each call), an instance found only by requests signed for its own
 * Region (404 elsewhere, as another Region's endpoint answers), and a per-operation token-bucket quota (default 2 rps, burst 5). What it adds for tests: error rates and
 * latency per operation, agents on a live contact (PutUserStatus then sets the next status), renaming a status,
 * and an admin surface under {@code /_emulator/} that is not part of Connect's API.
 *
 * <p>Assumption (undocumented by AWS): PutUserStatus to the status the agent already has is a 200 no-op.
 */
public final class ConnectEmulator implements AutoCloseable {
    public static final String PUT_USER_STATUS = "PutUserStatus";
    public static final String GET_CURRENT_USER_DATA = "GetCurrentUserData";
    public static final String LIST_AGENT_STATUSES = "ListAgentStatuses";
    public static final String DESCRIBE_AGENT_STATUS = "DescribeAgentStatus";
    public static final String DESCRIBE_USER = "DescribeUser";
    public static final String LIST_USERS = "ListUsers";
    /** Status changes the agent makes in their own CCP (the simulated Streams): no quota, not an API call. */
    public static final String CCP_SET_STATE = "ccp:SetState";

    private static final List<String> OPERATIONS = List.of(PUT_USER_STATUS, GET_CURRENT_USER_DATA,
            LIST_AGENT_STATUSES, DESCRIBE_AGENT_STATUS, DESCRIBE_USER, LIST_USERS);
    private static final int MAX_BODY = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final ExecutorService executor;
    private final Clock clock;
    private final Map<String, EmulatedInstance> instances = new LinkedHashMap<>();
    private final Map<String, OperationFault> faults = new ConcurrentHashMap<>();
    private final Map<String, Integer> userFaults = new ConcurrentHashMap<>();
    private final Map<String, TokenBucket> buckets = new ConcurrentHashMap<>();
    private final Map<String, Quota> quotaByOperation = new ConcurrentHashMap<>();
    private volatile Quota defaultQuota = Quota.CONNECT_DEFAULT;
    private final List<ConnectCall> calls = new CopyOnWriteArrayList<>();

    private ConnectEmulator(HttpServer server, ExecutorService executor, Clock clock) {
        this.server = server;
        this.executor = executor;
        this.clock = clock;
    }

    /** Starts on 127.0.0.1:{@code port} (0 picks a free port). */
    public static ConnectEmulator start(int port) throws IOException {
        return start(port, Clock.systemUTC());
    }

    public static ConnectEmulator start(int port, Clock clock) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 256);
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        ConnectEmulator emulator = new ConnectEmulator(server, executor, clock);
        server.createContext("/", emulator::handle);
        server.setExecutor(executor);
        server.start();
        return emulator;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port());
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    // ---------------------------------------------------------------- Java admin API (tests, local stack)

    /** Creates an instance with Connect's default statuses Available (ROUTABLE) and Offline (OFFLINE), plus Break (CUSTOM). */
    public synchronized void createInstance(String instanceId, String region, String accountId) {
        if (instances.containsKey(instanceId)) {
            throw new IllegalArgumentException("instance exists: " + instanceId);
        }
        EmulatedInstance instance = new EmulatedInstance(instanceId, region, accountId);
        instances.put(instanceId, instance);
        addStatus(instanceId, "Available", AgentStatusType.ROUTABLE);
        addStatus(instanceId, "Offline", AgentStatusType.OFFLINE);
        addStatus(instanceId, "Break", AgentStatusType.CUSTOM);
    }

    public synchronized String addStatus(String instanceId, String name, AgentStatusType type) {
        EmulatedInstance instance = instance(instanceId);
        if (name == null || name.isEmpty() || name.length() > 127) {
            throw new IllegalArgumentException("status name must be 1-127 characters");
        }
        String id = UUID.randomUUID().toString();
        instance.statuses.put(id, new EmulatedStatus(id, name, type, instance.statuses.size() + 1, clock.instant()));
        return id;
    }

    public synchronized void renameStatus(String instanceId, String statusId, String newName) {
        EmulatedStatus status = status(instance(instanceId), statusId);
        status.name = newName;
        status.lastModified = clock.instant();
    }

    /**
     * Fault injection: the status gets a new id (same name, type and order; agents in it move along) and the old
     * id answers 404 ResourceNotFoundException from then on. Connect has no call that does this to a default
     * status; it stands for an id a client cached going stale (an instance rebuilt from infrastructure code, a
     * status replaced). Returns the new id.
     */
    public synchronized String replaceStatus(String instanceId, String statusId) {
        EmulatedInstance instance = instance(instanceId);
        EmulatedStatus old = status(instance, statusId);
        String id = UUID.randomUUID().toString();
        instance.statuses.remove(statusId);
        instance.statuses.put(id, new EmulatedStatus(id, old.name, old.type, old.displayOrder, clock.instant()));
        for (EmulatedAgent agent : instance.agents.values()) {
            if (statusId.equals(agent.statusId)) {
                agent.statusId = id;
            }
        }
        return id;
    }

    /** The id of the first status of that type (Connect has exactly one OFFLINE and one ROUTABLE status). */
    public synchronized String statusId(String instanceId, AgentStatusType type) {
        return instance(instanceId).statuses.values().stream().filter(s -> s.type == type).findFirst()
                .map(s -> s.id).orElseThrow(() -> ConnectError.notFound("no status of type " + type));
    }

    public synchronized String statusIdByName(String instanceId, String name) {
        return instance(instanceId).statuses.values().stream().filter(s -> s.name.equals(name)).findFirst()
                .map(s -> s.id).orElseThrow(() -> ConnectError.notFound("no status named " + name));
    }

    /** Adds a user; {@code userId} null makes one. The agent starts in the status named {@code statusName}. */
    public synchronized EmulatedAgent addAgent(String instanceId, String userId, String username, String firstName,
                                               String lastName, String routingProfileId, String statusName) {
        EmulatedInstance instance = instance(instanceId);
        String id = userId == null ? UUID.randomUUID().toString() : userId;
        if (instance.agents.containsKey(id)) {
            throw new IllegalArgumentException("agent exists: " + id);
        }
        String statusId = statusIdByName(instanceId, statusName == null ? "Offline" : statusName);
        EmulatedAgent agent = new EmulatedAgent(id, username, firstName, lastName,
                routingProfileId == null ? "basic-routing-profile" : routingProfileId, statusId, clock.instant());
        instance.agents.put(id, agent);
        return agent;
    }

    /** The agent sets their own status in the CCP (what Streams' {@code agent.setState} does). */
    public synchronized void setStatusFromCcp(String instanceId, String userId, String statusId) {
        EmulatedInstance instance = instance(instanceId);
        EmulatedAgent agent = agent(instance, userId);
        status(instance, statusId);
        changeStatus(agent, statusId);
        calls.add(new ConnectCall(CCP_SET_STATE, instanceId, userId, statusId, clock.instant(), 200, "OK"));
    }

    /** Puts the agent on a live voice contact: PutUserStatus now sets their next status. */
    public synchronized String startContact(String instanceId, String userId) {
        EmulatedAgent agent = agent(instance(instanceId), userId);
        agent.contactId = UUID.randomUUID().toString();
        agent.contactStart = clock.instant();
        return agent.contactId;
    }

    /** Ends the live contact; a next status set meanwhile becomes the current one, as in Connect. */
    public synchronized void endContact(String instanceId, String userId) {
        EmulatedAgent agent = agent(instance(instanceId), userId);
        agent.contactId = null;
        agent.contactStart = null;
        if (agent.nextStatusId != null) {
            changeStatus(agent, agent.nextStatusId);
        }
    }

    /** What Connect would report for this agent right now. */
    public synchronized AgentView agentView(String instanceId, String userId) {
        EmulatedInstance instance = instance(instanceId);
        return view(instance, agent(instance, userId));
    }

    public synchronized List<AgentView> agents(String instanceId) {
        EmulatedInstance instance = instance(instanceId);
        return instance.agents.values().stream().map(a -> view(instance, a)).toList();
    }

    public synchronized Set<String> instanceIds() {
        return Set.copyOf(instances.keySet());
    }

    public void setFault(String operation, OperationFault fault) {
        requireOperation(operation);
        faults.put(operation, fault);
    }

    /** Every call that names this user in its path (PutUserStatus, DescribeUser) answers {@code status}. */
    public void setUserFault(String userId, int status) {
        userFaults.put(userId, status);
    }

    /** The quota every operation gets unless {@link #setQuota(String, Quota)} says otherwise. */
    public void setQuota(Quota quota) {
        defaultQuota = quota;
        buckets.clear();
    }

    public void setQuota(String operation, Quota quota) {
        requireOperation(operation);
        quotaByOperation.put(operation, quota);
        buckets.remove(operation);
    }

    /** Removes faults and per-operation quotas and refills every bucket; the default quota returns to 2 rps, burst 5. */
    public void clearFaults() {
        faults.clear();
        userFaults.clear();
        quotaByOperation.clear();
        defaultQuota = Quota.CONNECT_DEFAULT;
        buckets.clear();
    }

    public List<ConnectCall> calls() {
        return List.copyOf(calls);
    }

    public List<ConnectCall> calls(String operation) {
        return calls.stream().filter(c -> c.operation().equals(operation)).toList();
    }

    public void clearCalls() {
        calls.clear();
    }

    /** Forgets every instance, fault and call. */
    public synchronized void reset() {
        instances.clear();
        clearFaults();
        clearCalls();
    }

    /**
     * The agent as Connect reports them.
     *
     * @param nextStatusName the status PutUserStatus queued during a live contact, or null
     */
    public record AgentView(String userId, String username, String firstName, String lastName, String agentArn,
                            String routingProfileId, String statusId, String statusName, AgentStatusType statusType,
                            Instant statusStart, String nextStatusName, String contactId) {
        public boolean onContact() {
            return contactId != null;
        }
    }

    // ---------------------------------------------------------------- HTTP

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getRawPath();
            if (path.startsWith("/_emulator/") || path.equals("/_emulator")) {
                handleAdmin(exchange, path);
            } else {
                handleConnect(exchange, path);
            }
        } catch (RuntimeException e) {
            // A bug in the emulator must show up as a 500 the SDK sees, never as a hung connection.
            sendError(exchange, new ConnectError(500, "InternalServiceException", "emulator: " + e));
        }
    }

    private record Route(String method, Pattern path, String operation) {}

    private static final List<Route> ROUTES = List.of(
            new Route("PUT", Pattern.compile("/users/([^/]+)/([^/]+)/status"), PUT_USER_STATUS),
            new Route("POST", Pattern.compile("/metrics/userdata/([^/]+)"), GET_CURRENT_USER_DATA),
            new Route("GET", Pattern.compile("/agent-status/([^/]+)"), LIST_AGENT_STATUSES),
            new Route("GET", Pattern.compile("/agent-status/([^/]+)/([^/]+)"), DESCRIBE_AGENT_STATUS),
            new Route("GET", Pattern.compile("/users/([^/]+)/([^/]+)"), DESCRIBE_USER),
            new Route("GET", Pattern.compile("/users-summary/([^/]+)"), LIST_USERS));

    private void handleConnect(HttpExchange exchange, String path) throws IOException {
        String method = exchange.getRequestMethod();
        Route route = null;
        Matcher matcher = null;
        for (Route candidate : ROUTES) {
            Matcher m = candidate.path.matcher(path);
            if (candidate.method.equals(method) && m.matches()) {
                route = candidate;
                matcher = m;
                break;
            }
        }
        String auth = exchange.getRequestHeaders().getFirst("Authorization");
        if (auth == null || auth.isBlank()) {
            sendError(exchange, ConnectError.accessDenied("Missing Authentication Token"));
            return;
        }
        if (route == null) {
            sendError(exchange, new ConnectError(404, "UnknownOperationException", "No operation at " + method + " " + path));
            return;
        }
        // SigV4: "AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/connect/aws4_request, SignedHeaders=..., ...".
        Matcher scope = CREDENTIAL_SCOPE.matcher(auth);
        String accessKeyId = scope.find() ? scope.group(1) : null;
        String signedRegion = accessKeyId != null ? scope.group(2) : null;
        String operation = route.operation;
        String instanceId = decode(matcher.group(1));
        String second = matcher.groupCount() > 1 ? decode(matcher.group(2)) : null;
        byte[] body = readBody(exchange);
        String userId = operation.equals(PUT_USER_STATUS) || operation.equals(DESCRIBE_USER) ? second : null;
        String statusId = operation.equals(DESCRIBE_AGENT_STATUS) ? second : null;
        try {
            if (!bucket(operation).map(TokenBucket::tryAcquire).orElse(true)) {
                throw ConnectError.throttled();
            }
            checkRegion(instanceId, signedRegion);
            OperationFault fault = faults.getOrDefault(operation, OperationFault.NONE);
            if (fault.latencyMillis() > 0) {
                Thread.sleep(fault.latencyMillis());
            }
            if (fault.errorRate() > 0 && ThreadLocalRandom.current().nextDouble() < fault.errorRate()) {
                throw new ConnectError(fault.errorStatus(), fault.errorType(), "Injected fault");
            }
            Integer userFault = userId == null ? null : userFaults.get(userId);
            if (userFault != null) {
                throw new ConnectError(userFault, "InternalServiceException", "Injected fault for this user");
            }
            JsonNode request = parseBody(body, !method.equals("GET"));
            Map<String, List<String>> query = query(exchange.getRequestURI().getRawQuery());
            ObjectNode response;
            synchronized (this) {
                response = switch (operation) {
                    case PUT_USER_STATUS -> {
                        statusId = text(request, "AgentStatusId", true);
                        yield putUserStatus(instanceId, second, statusId);
                    }
                    case GET_CURRENT_USER_DATA -> getCurrentUserData(instanceId, request);
                    case LIST_AGENT_STATUSES -> listAgentStatuses(instanceId, query);
                    case DESCRIBE_AGENT_STATUS -> describeAgentStatus(instanceId, second);
                    case DESCRIBE_USER -> describeUser(instanceId, second);
                    case LIST_USERS -> listUsers(instanceId, query);
                    default -> throw new IllegalStateException(operation);
                };
            }
            calls.add(new ConnectCall(operation, instanceId, userId, statusId, clock.instant(), 200, "OK", accessKeyId, signedRegion));
            send(exchange, 200, response == null ? new byte[0] : JSON.writeValueAsBytes(response), Map.of());
        } catch (ConnectError e) {
            calls.add(new ConnectCall(operation, instanceId, userId, statusId, clock.instant(), e.status, e.type, accessKeyId, signedRegion));
            sendError(exchange, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            sendError(exchange, new ConnectError(500, "InternalServiceException", "interrupted"));
        }
    }

    private static final Pattern CREDENTIAL_SCOPE = Pattern.compile("Credential=([^/,\\s]+)/\\d{8}/([a-z0-9-]+)/connect/aws4_request");

    /**
     * Connect holds an instance in one Region and answers for it only at that Region's endpoint
     * (connect.{Region}.amazonaws.com, signed for that Region): anywhere else the instance does not exist. This one
     * endpoint stands for every Region, so the request's signed Region says which one the caller meant.
     */
    private synchronized void checkRegion(String instanceId, String signedRegion) {
        EmulatedInstance instance = instances.get(instanceId);
        if (instance != null && signedRegion != null && !instance.region.equals(signedRegion)) {
            throw ConnectError.notFound("Instance not found: " + instanceId);
        }
    }

    private java.util.Optional<TokenBucket> bucket(String operation) {
        Quota quota = quotaByOperation.getOrDefault(operation, defaultQuota);
        if (!quota.enabled()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(buckets.computeIfAbsent(operation,
                op -> new TokenBucket(quota.ratePerSecond(), quota.burst())));
    }

    // ---------------------------------------------------------------- Connect operations (called under the lock)

    private ObjectNode putUserStatus(String instanceId, String userId, String statusId) {
        EmulatedInstance instance = instance(instanceId);
        EmulatedAgent agent = agent(instance, userId);
        status(instance, statusId);
        if (agent.contactId != null) {
            agent.nextStatusId = statusId;
        } else {
            changeStatus(agent, statusId);
        }
        agent.lastModified = clock.instant();
        return null;
    }

    private ObjectNode getCurrentUserData(String instanceId, JsonNode request) {
        EmulatedInstance instance = instance(instanceId);
        JsonNode filters = request.get("Filters");
        if (filters == null || !filters.isObject()) {
            throw ConnectError.invalidParameter("Filters is required");
        }
        int kinds = 0;
        for (String kind : List.of("Queues", "RoutingProfiles", "Agents", "UserHierarchyGroups")) {
            if (filters.has(kind)) {
                kinds++;
            }
        }
        if (kinds > 1) {
            throw ConnectError.invalidParameter(
                    "A maximum of one filter can be passed from queues, routing profiles, agents, and user hierarchy groups");
        }
        if (filters.has("Queues") || filters.has("UserHierarchyGroups")) {
            throw ConnectError.invalidParameter("The emulator supports the Agents and RoutingProfiles filters only");
        }
        int maxResults = intMember(request, "MaxResults", 1, 100, 100);
        List<EmulatedAgent> selected = new ArrayList<>();
        if (filters.has("Agents")) {
            List<String> wanted = stringList(filters, "Agents", 1, 100);
            for (String ref : wanted) {
                EmulatedAgent agent = instance.agents.get(lastSegment(ref, "/agent/"));
                if (agent != null && !selected.contains(agent)) {
                    selected.add(agent);
                }
            }
        } else if (filters.has("RoutingProfiles")) {
            List<String> profiles = stringList(filters, "RoutingProfiles", 1, 100).stream()
                    .map(p -> lastSegment(p, "/routing-profile/")).toList();
            instance.agents.values().stream().filter(a -> profiles.contains(a.routingProfileId)).forEach(selected::add);
        } else {
            selected.addAll(instance.agents.values());
        }
        if (filters.has("ContactFilter")) {
            List<String> states = stringList(filters.get("ContactFilter"), "ContactStates", 0, 9);
            selected.removeIf(a -> !(a.contactId != null && states.contains("CONNECTED")));
        }
        int offset = offset(request.path("NextToken").asText(null), "userdata:" + instanceId);
        ObjectNode response = JSON.createObjectNode();
        ArrayNode list = response.putArray("UserDataList");
        int end = Math.min(selected.size(), offset + maxResults);
        for (EmulatedAgent agent : selected.subList(Math.min(offset, selected.size()), end)) {
            list.add(userData(instance, agent));
        }
        response.put("ApproximateTotalCount", (long) selected.size());
        if (end < selected.size()) {
            response.put("NextToken", token(end, "userdata:" + instanceId));
        }
        return response;
    }

    private ObjectNode userData(EmulatedInstance instance, EmulatedAgent agent) {
        EmulatedStatus status = instance.statuses.get(agent.statusId);
        ObjectNode data = JSON.createObjectNode();
        data.putObject("User").put("Id", agent.id).put("Arn", instance.agentArn(agent.id));
        data.putObject("RoutingProfile").put("Id", agent.routingProfileId)
                .put("Arn", instance.routingProfileArn(agent.routingProfileId));
        data.putObject("Status").put("StatusStartTimestamp", epochSeconds(agent.statusStart))
                .put("StatusArn", instance.statusArn(status.id)).put("StatusName", status.name);
        boolean routable = status.type == AgentStatusType.ROUTABLE && agent.nextStatusId == null;
        int active = agent.contactId == null ? 0 : 1;
        data.putObject("MaxSlotsByChannel").put("VOICE", 1);
        data.putObject("ActiveSlotsByChannel").put("VOICE", active);
        data.putObject("AvailableSlotsByChannel").put("VOICE", routable && active == 0 ? 1 : 0);
        ArrayNode contacts = data.putArray("Contacts");
        if (agent.contactId != null) {
            ObjectNode contact = contacts.addObject();
            contact.put("ContactId", agent.contactId).put("Channel", "VOICE").put("InitiationMethod", "INBOUND")
                    .put("AgentContactState", "CONNECTED").put("StateStartTimestamp", epochSeconds(agent.contactStart))
                    .put("ConnectedToAgentTimestamp", epochSeconds(agent.contactStart));
            contact.putObject("Queue").put("Id", "basic-queue").put("Arn", instance.arn() + "/queue/basic-queue");
        }
        if (agent.nextStatusId != null) {
            data.put("NextStatus", instance.statuses.get(agent.nextStatusId).name);
        }
        return data;
    }

    private ObjectNode listAgentStatuses(String instanceId, Map<String, List<String>> query) {
        EmulatedInstance instance = instance(instanceId);
        int maxResults = intQuery(query, "maxResults", 1, 1000, 100);
        List<String> typeNames = query.getOrDefault("AgentStatusTypes", List.of());
        if (typeNames.size() > 3) {
            throw ConnectError.invalidParameter("AgentStatusTypes takes at most 3 values");
        }
        Set<AgentStatusType> types = EnumSet.noneOf(AgentStatusType.class);
        for (String name : typeNames) {
            try {
                types.add(AgentStatusType.valueOf(name));
            } catch (IllegalArgumentException e) {
                throw ConnectError.invalidParameter("Invalid AgentStatusTypes value: " + name);
            }
        }
        List<EmulatedStatus> selected = instance.statuses.values().stream()
                .filter(s -> types.isEmpty() || types.contains(s.type)).toList();
        String scope = "statuses:" + instanceId + ":" + types;
        int offset = offset(first(query, "nextToken"), scope);
        int end = Math.min(selected.size(), offset + maxResults);
        ObjectNode response = JSON.createObjectNode();
        ArrayNode list = response.putArray("AgentStatusSummaryList");
        for (EmulatedStatus status : selected.subList(Math.min(offset, selected.size()), end)) {
            list.addObject().put("Id", status.id).put("Arn", instance.statusArn(status.id)).put("Name", status.name)
                    .put("Type", status.type.name()).put("LastModifiedTime", epochSeconds(status.lastModified))
                    .put("LastModifiedRegion", instance.region);
        }
        if (end < selected.size()) {
            response.put("NextToken", token(end, scope));
        }
        return response;
    }

    private ObjectNode describeAgentStatus(String instanceId, String statusId) {
        EmulatedInstance instance = instance(instanceId);
        EmulatedStatus status = status(instance, statusId);
        ObjectNode response = JSON.createObjectNode();
        response.putObject("AgentStatus").put("AgentStatusARN", instance.statusArn(status.id))
                .put("AgentStatusId", status.id).put("Name", status.name).put("Type", status.type.name())
                .put("DisplayOrder", status.displayOrder).put("State", "ENABLED")
                .put("LastModifiedTime", epochSeconds(status.lastModified)).put("LastModifiedRegion", instance.region);
        return response;
    }

    private ObjectNode describeUser(String instanceId, String userId) {
        EmulatedInstance instance = instance(instanceId);
        EmulatedAgent agent = agent(instance, userId);
        ObjectNode response = JSON.createObjectNode();
        ObjectNode user = response.putObject("User");
        user.put("Id", agent.id).put("Arn", instance.agentArn(agent.id)).put("Username", agent.username);
        user.putObject("IdentityInfo").put("FirstName", agent.firstName).put("LastName", agent.lastName);
        user.putObject("PhoneConfig").put("PhoneType", "SOFT_PHONE").put("AutoAccept", false)
                .put("AfterContactWorkTimeLimit", 0);
        user.putArray("SecurityProfileIds").add("agent-security-profile");
        user.put("RoutingProfileId", agent.routingProfileId);
        user.putObject("Tags");
        user.put("LastModifiedTime", epochSeconds(agent.lastModified)).put("LastModifiedRegion", instance.region);
        return response;
    }

    private ObjectNode listUsers(String instanceId, Map<String, List<String>> query) {
        EmulatedInstance instance = instance(instanceId);
        int maxResults = intQuery(query, "maxResults", 1, 1000, 100);
        List<EmulatedAgent> all = List.copyOf(instance.agents.values());
        String scope = "users:" + instanceId;
        int offset = offset(first(query, "nextToken"), scope);
        int end = Math.min(all.size(), offset + maxResults);
        ObjectNode response = JSON.createObjectNode();
        ArrayNode list = response.putArray("UserSummaryList");
        for (EmulatedAgent agent : all.subList(Math.min(offset, all.size()), end)) {
            list.addObject().put("Id", agent.id).put("Arn", instance.agentArn(agent.id)).put("Username", agent.username)
                    .put("LastModifiedTime", epochSeconds(agent.lastModified)).put("LastModifiedRegion", instance.region);
        }
        if (end < all.size()) {
            response.put("NextToken", token(end, scope));
        }
        return response;
    }

    // ---------------------------------------------------------------- admin surface

    private static final Pattern ADMIN_INSTANCE = Pattern.compile("/_emulator/instances/([^/]+)");
    private static final Pattern ADMIN_STATUSES = Pattern.compile("/_emulator/instances/([^/]+)/statuses");
    private static final Pattern ADMIN_STATUS = Pattern.compile("/_emulator/instances/([^/]+)/statuses/([^/]+)");
    private static final Pattern ADMIN_AGENTS = Pattern.compile("/_emulator/instances/([^/]+)/agents");
    private static final Pattern ADMIN_AGENT = Pattern.compile("/_emulator/instances/([^/]+)/agents/([^/]+)");
    private static final Pattern ADMIN_AGENT_STATUS = Pattern.compile("/_emulator/instances/([^/]+)/agents/([^/]+)/status");
    private static final Pattern ADMIN_AGENT_CONTACT = Pattern.compile("/_emulator/instances/([^/]+)/agents/([^/]+)/contact");

    private void handleAdmin(HttpExchange exchange, String path) throws IOException {
        String method = exchange.getRequestMethod();
        // The local CCP page (another port, so another origin) drives the simulated Streams through here.
        Map<String, String> cors = Map.of("Access-Control-Allow-Origin", "*",
                "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS",
                "Access-Control-Allow-Headers", "Content-Type");
        if (method.equals("OPTIONS")) {
            send(exchange, 204, new byte[0], cors);
            return;
        }
        try {
            JsonNode body = parseBody(readBody(exchange), false);
            Object result = admin(method, path, body, query(exchange.getRequestURI().getRawQuery()));
            if (result == null) {
                send(exchange, 204, new byte[0], cors);
            } else {
                send(exchange, 200, JSON.writeValueAsBytes(result), cors);
            }
        } catch (ConnectError e) {
            byte[] payload = JSON.writeValueAsBytes(Map.of("error", e.type, "message", e.getMessage()));
            send(exchange, e.status, payload, cors);
        } catch (IllegalArgumentException e) {
            byte[] payload = JSON.writeValueAsBytes(Map.of("error", "BadRequest", "message", String.valueOf(e.getMessage())));
            send(exchange, 400, payload, cors);
        }
    }

    private Object admin(String method, String path, JsonNode body, Map<String, List<String>> query) {
        Matcher m;
        if (path.equals("/_emulator/health")) {
            return Map.of("ok", true, "instances", instanceIds());
        }
        if (path.equals("/_emulator/reset") && method.equals("POST")) {
            reset();
            return null;
        }
        if (path.equals("/_emulator/calls")) {
            if (method.equals("DELETE")) {
                clearCalls();
                return null;
            }
            String operation = first(query, "operation");
            return Map.of("calls", (operation == null ? calls() : calls(operation)).stream().map(ConnectEmulator::callJson).toList());
        }
        if (path.equals("/_emulator/faults")) {
            if (method.equals("DELETE")) {
                clearFaults();
                return null;
            }
            applyFaults(body);
            return null;
        }
        if (path.equals("/_emulator/instances") && method.equals("POST")) {
            String id = body.path("instanceId").asText(UUID.randomUUID().toString());
            createInstance(id, body.path("region").asText("us-east-1"), body.path("accountId").asText("123456789012"));
            return instanceView(id);
        }
        if ((m = ADMIN_INSTANCE.matcher(path)).matches() && method.equals("GET")) {
            return instanceView(decode(m.group(1)));
        }
        if ((m = ADMIN_STATUSES.matcher(path)).matches() && method.equals("POST")) {
            String id = addStatus(decode(m.group(1)), body.path("name").asText(),
                    AgentStatusType.valueOf(body.path("type").asText("CUSTOM")));
            return Map.of("id", id);
        }
        if ((m = ADMIN_STATUS.matcher(path)).matches() && method.equals("PUT")) {
            renameStatus(decode(m.group(1)), decode(m.group(2)), body.path("name").asText());
            return null;
        }
        if ((m = ADMIN_AGENTS.matcher(path)).matches()) {
            String instanceId = decode(m.group(1));
            if (method.equals("GET")) {
                return Map.of("agents", agents(instanceId).stream().map(ConnectEmulator::agentJson).toList());
            }
            EmulatedAgent agent = addAgent(instanceId, body.path("userId").asText(null), body.path("username").asText(),
                    body.path("firstName").asText(""), body.path("lastName").asText(""),
                    body.path("routingProfileId").asText(null), body.path("status").asText("Offline"));
            return agentJson(agentView(instanceId, agent.id));
        }
        if ((m = ADMIN_AGENT.matcher(path)).matches() && method.equals("GET")) {
            return agentJson(agentView(decode(m.group(1)), decode(m.group(2))));
        }
        if ((m = ADMIN_AGENT_STATUS.matcher(path)).matches() && method.equals("PUT")) {
            String instanceId = decode(m.group(1));
            String statusId = body.hasNonNull("statusId") ? body.get("statusId").asText()
                    : statusIdByName(instanceId, body.path("statusName").asText());
            setStatusFromCcp(instanceId, decode(m.group(2)), statusId);
            return agentJson(agentView(instanceId, decode(m.group(2))));
        }
        if ((m = ADMIN_AGENT_CONTACT.matcher(path)).matches()) {
            String instanceId = decode(m.group(1));
            String userId = decode(m.group(2));
            if (method.equals("DELETE")) {
                endContact(instanceId, userId);
            } else {
                startContact(instanceId, userId);
            }
            return agentJson(agentView(instanceId, userId));
        }
        throw ConnectError.notFound("no admin route " + method + " " + path);
    }

    private void applyFaults(JsonNode body) {
        body.path("operations").properties().forEach(entry -> {
            JsonNode f = entry.getValue();
            setFault(entry.getKey(), new OperationFault(f.path("errorRate").asDouble(0), f.path("errorStatus").asInt(500),
                    f.path("errorType").asText(null), f.path("latencyMillis").asLong(0)));
        });
        if (body.has("quota")) {
            setQuota(quota(body.get("quota")));
        }
        body.path("quotaByOperation").properties().forEach(entry -> setQuota(entry.getKey(), quota(entry.getValue())));
    }

    private static Quota quota(JsonNode node) {
        return node.path("enabled").asBoolean(true)
                ? new Quota(true, node.path("ratePerSecond").asDouble(2), node.path("burst").asInt(5))
                : Quota.OFF;
    }

    private synchronized Map<String, Object> instanceView(String instanceId) {
        EmulatedInstance instance = instance(instanceId);
        List<Map<String, Object>> statuses = instance.statuses.values().stream()
                .map(s -> Map.<String, Object>of("id", s.id, "name", s.name, "type", s.type.name())).toList();
        return Map.of("instanceId", instance.id, "arn", instance.arn(), "statuses", statuses,
                "agents", agents(instanceId).stream().map(ConnectEmulator::agentJson).toList());
    }

    private static Map<String, Object> agentJson(AgentView view) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("userId", view.userId());
        json.put("username", view.username());
        json.put("firstName", view.firstName());
        json.put("lastName", view.lastName());
        json.put("agentArn", view.agentArn());
        json.put("routingProfileId", view.routingProfileId());
        json.put("statusId", view.statusId());
        json.put("statusName", view.statusName());
        json.put("statusType", view.statusType().name());
        json.put("statusStart", view.statusStart().toEpochMilli());
        json.put("nextStatusName", view.nextStatusName());
        json.put("contactId", view.contactId());
        return json;
    }

    private static Map<String, Object> callJson(ConnectCall call) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("operation", call.operation());
        json.put("instanceId", call.instanceId());
        json.put("userId", call.userId());
        json.put("statusId", call.statusId());
        json.put("at", call.at().toEpochMilli());
        json.put("httpStatus", call.httpStatus());
        json.put("outcome", call.outcome());
        json.put("signedRegion", call.signedRegion());
        return json;
    }

    // ---------------------------------------------------------------- helpers

    private void changeStatus(EmulatedAgent agent, String statusId) {
        if (!statusId.equals(agent.statusId)) {
            agent.statusId = statusId;
            agent.statusStart = clock.instant();
        }
        agent.nextStatusId = null;
    }

    private AgentView view(EmulatedInstance instance, EmulatedAgent agent) {
        EmulatedStatus status = instance.statuses.get(agent.statusId);
        String next = agent.nextStatusId == null ? null : instance.statuses.get(agent.nextStatusId).name;
        return new AgentView(agent.id, agent.username, agent.firstName, agent.lastName, instance.agentArn(agent.id),
                agent.routingProfileId, status.id, status.name, status.type, agent.statusStart, next, agent.contactId);
    }

    private EmulatedInstance instance(String instanceId) {
        EmulatedInstance instance = instances.get(instanceId);
        if (instance == null) {
            throw ConnectError.notFound("Instance not found: " + instanceId);
        }
        return instance;
    }

    private static EmulatedAgent agent(EmulatedInstance instance, String userId) {
        EmulatedAgent agent = instance.agents.get(userId);
        if (agent == null) {
            throw ConnectError.notFound("User not found: " + userId);
        }
        return agent;
    }

    private static EmulatedStatus status(EmulatedInstance instance, String statusId) {
        EmulatedStatus status = instance.statuses.get(statusId);
        if (status == null) {
            throw ConnectError.notFound("Agent status not found: " + statusId);
        }
        return status;
    }

    private static void requireOperation(String operation) {
        if (!OPERATIONS.contains(operation)) {
            throw new IllegalArgumentException("unknown operation " + operation + "; one of " + OPERATIONS);
        }
    }

    private static String lastSegment(String idOrArn, String marker) {
        int at = idOrArn.lastIndexOf(marker);
        return at < 0 ? idOrArn : idOrArn.substring(at + marker.length());
    }

    private static BigDecimal epochSeconds(Instant instant) {
        return BigDecimal.valueOf(instant.toEpochMilli(), 3);
    }

    private static String token(int offset, String scope) {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((scope + "|" + offset).getBytes(StandardCharsets.UTF_8));
    }

    private static int offset(String token, String scope) {
        if (token == null) {
            return 0;
        }
        try {
            String decoded = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            int bar = decoded.lastIndexOf('|');
            if (bar < 0 || !decoded.substring(0, bar).equals(scope)) {
                throw ConnectError.invalidParameter("Invalid NextToken");
            }
            return Integer.parseInt(decoded.substring(bar + 1));
        } catch (IllegalArgumentException e) {
            throw ConnectError.invalidParameter("Invalid NextToken");
        }
    }

    private static JsonNode parseBody(byte[] body, boolean required) {
        if (body.length == 0) {
            if (required) {
                throw ConnectError.invalidRequest("The request body is missing");
            }
            return JSON.createObjectNode();
        }
        try {
            JsonNode node = JSON.readTree(body);
            if (node == null || !node.isObject()) {
                throw ConnectError.invalidRequest("The request body must be a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw ConnectError.invalidRequest("The request body is not valid JSON");
        }
    }

    private static String text(JsonNode request, String member, boolean required) {
        JsonNode node = request.get(member);
        if (node == null || node.isNull()) {
            if (required) {
                throw ConnectError.invalidParameter(member + " is required");
            }
            return null;
        }
        if (!node.isTextual() || node.asText().isEmpty()) {
            throw ConnectError.invalidParameter(member + " must be a non-empty string");
        }
        return node.asText();
    }

    private static int intMember(JsonNode request, String member, int min, int max, int fallback) {
        JsonNode node = request.get(member);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isInt() || node.asInt() < min || node.asInt() > max) {
            throw ConnectError.invalidParameter(member + " must be an integer within " + min + ".." + max);
        }
        return node.asInt();
    }

    private static int intQuery(Map<String, List<String>> query, String name, int min, int max, int fallback) {
        String value = first(query, name);
        if (value == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // answered below like any out-of-range value
        }
        throw ConnectError.invalidParameter(name + " must be an integer within " + min + ".." + max);
    }

    private static List<String> stringList(JsonNode parent, String member, int min, int max) {
        JsonNode node = parent.get(member);
        if (node == null || !node.isArray()) {
            throw ConnectError.invalidParameter(member + " must be a list");
        }
        if (node.size() < min || node.size() > max) {
            throw ConnectError.invalidParameter(member + " must have " + min + " to " + max + " items");
        }
        List<String> values = new ArrayList<>();
        for (JsonNode item : node) {
            if (!item.isTextual()) {
                throw ConnectError.invalidParameter(member + " items must be strings");
            }
            values.add(item.asText());
        }
        return values;
    }

    private static String first(Map<String, List<String>> query, String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }

    private static Map<String, List<String>> query(String raw) {
        Map<String, List<String>> query = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return query;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String key = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            query.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
        }
        return query;
    }

    private static String decode(String raw) {
        return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static byte[] readBody(HttpExchange exchange) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            byte[] body = in.readNBytes(MAX_BODY + 1);
            if (body.length > MAX_BODY) {
                throw ConnectError.invalidRequest("The request body is too large");
            }
            return body;
        }
    }

    private static void sendError(HttpExchange exchange, ConnectError error) throws IOException {
        ObjectNode body = JSON.createObjectNode().put("Message", error.getMessage());
        send(exchange, error.status, JSON.writeValueAsBytes(body), Map.of("x-amzn-ErrorType", error.type));
    }

    private static void send(HttpExchange exchange, int status, byte[] body, Map<String, String> headers) throws IOException {
        headers.forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
        exchange.getResponseHeaders().set("x-amzn-RequestId", UUID.randomUUID().toString());
        if (body.length > 0 || status == 200) {
            exchange.getResponseHeaders().set("Content-Type", "application/json");
        }
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }
}
