package backstop.local.connect;

import java.time.Instant;

/**
 * One API call the emulator answered: what tests read to count PutUserStatus calls per agent.
 *
 * @param outcome {@code "OK"} or the error type sent ({@code ThrottlingException}, ...)
 */
public record ConnectCall(String operation, String instanceId, String userId, String statusId, Instant at,
                          int httpStatus, String outcome) {
    public boolean ok() {
        return httpStatus == 200;
    }
}
