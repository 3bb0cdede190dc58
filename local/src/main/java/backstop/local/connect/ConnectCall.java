package backstop.local.connect;

import java.time.Instant;

/**
 * One API call the emulator answered: what tests read to count PutUserStatus calls per agent.
 *
 * @param outcome {@code "OK"} or the error type sent ({@code ThrottlingException}, ...)
 * @param accessKeyId the access key id in the request's SigV4 credential scope (who signed it), or null
 * @param signedRegion the Region in that scope (which Region's endpoint the caller meant), or null
 */
public record ConnectCall(String operation, String instanceId, String userId, String statusId, Instant at,
                          int httpStatus, String outcome, String accessKeyId, String signedRegion) {
    /** A call made without a signature (the emulated CCP's own status changes). */
    public ConnectCall(String operation, String instanceId, String userId, String statusId, Instant at,
                       int httpStatus, String outcome) {
        this(operation, instanceId, userId, statusId, at, httpStatus, outcome, null, null);
    }

    public boolean ok() {
        return httpStatus == 200;
    }
}
