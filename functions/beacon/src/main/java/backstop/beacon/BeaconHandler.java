package backstop.beacon;

import backstop.core.aws.AwsClients;
import backstop.core.aws.ClientPolicies;
import backstop.core.metrics.OfflineMetrics;
import backstop.core.config.BackstopConfig;
import backstop.core.http.HttpRequest;
import backstop.core.http.HttpResponse;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import org.crac.Core;
import software.amazon.lambda.powertools.logging.PowertoolsLogging;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Lambda entry point for the HTTP API (payload format 2.0): event in, one call to {@link BeaconApi}, response out.
 */
public final class BeaconHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final BeaconApi api;
    /** Held here: a CRaC context may keep only weak references to its resources. */
    private final BeaconPriming priming;
    private final OfflineMetrics metrics;

    /**
     * Production: configuration from the environment, clients built once per container, and the SnapStart
     * hooks registered (priming before the snapshot, reseeding after each restore).
     */
    public BeaconHandler() {
        this(production());
    }

    private BeaconHandler(BeaconWiring.Beacon beacon) {
        this.api = beacon.api();
        this.priming = beacon.priming();
        this.metrics = beacon.metrics();
        Core.getGlobalContext().register(priming);
    }

    public BeaconHandler(BeaconApi api) {
        this(api, OfflineMetrics.NONE);
    }

    /** Tests: the API and the metrics the handler writes each invocation. */
    BeaconHandler(BeaconApi api, OfflineMetrics metrics) {
        this.api = api;
        this.priming = null;
        this.metrics = metrics;
    }

    private static BeaconWiring.Beacon production() {
        BackstopConfig config = BackstopConfig.fromEnvironment();
        AwsClients clients = AwsClients.create(AwsClients.Target.fromLambdaEnvironment(config), ClientPolicies.BEACON);
        return BeaconWiring.beacon(config, clients, Clock.systemUTC(), new BeaconMetrics());
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        // Adds the request id and cold-start flag to every log line of this invocation (no AspectJ needed).
        long start = System.nanoTime();
        HttpResponse response = PowertoolsLogging.withLogging(context, () -> api.handle(toRequest(event)));
        if (BeaconApi.CLOSE.equals(event.getRouteKey())) {
            metrics.closeTook((System.nanoTime() - start) / 1_000_000);
        }
        metrics.flush(); // writes only when this request counted something (a close that called Connect)
        return APIGatewayV2HTTPResponse.builder()
                .withStatusCode(response.status())
                .withHeaders(response.headers())
                .withBody(response.body())
                .withIsBase64Encoded(false)
                .build();
    }

    static HttpRequest toRequest(APIGatewayV2HTTPEvent event) {
        Map<String, String> headers = new HashMap<>();
        if (event.getHeaders() != null) {
            event.getHeaders().forEach((name, value) -> headers.put(name.toLowerCase(Locale.ROOT), value));
        }
        byte[] body;
        if (event.getBody() == null) {
            body = new byte[0];
        } else if (event.getIsBase64Encoded()) {
            try {
                body = Base64.getDecoder().decode(event.getBody());
            } catch (IllegalArgumentException e) {
                body = new byte[] {0}; // not base64: let the JSON check answer 400
            }
        } else {
            body = event.getBody().getBytes(StandardCharsets.UTF_8);
        }
        Map<String, String> path = event.getPathParameters() == null ? Map.of() : event.getPathParameters();
        return new HttpRequest(event.getRouteKey() == null ? "" : event.getRouteKey(), path, headers, body, claims(event));
    }

    /** Where an HTTP API's JWT authorizer puts the validated token's claims: requestContext.authorizer.jwt.claims. */
    private static Map<String, String> claims(APIGatewayV2HTTPEvent event) {
        var context = event.getRequestContext();
        if (context == null || context.getAuthorizer() == null || context.getAuthorizer().getJwt() == null
                || context.getAuthorizer().getJwt().getClaims() == null) {
            return Map.of();
        }
        return Map.copyOf(context.getAuthorizer().getJwt().getClaims());
    }
}
