package backstop.local.it;

import java.time.Duration;
import java.time.Instant;

/** A Lambda Context whose remaining time is measured on a moved clock: a handler's budget on simulated time. */
public record MovedClockContext(MutableClock clock, Instant deadline) implements com.amazonaws.services.lambda.runtime.Context {
    @Override public int getRemainingTimeInMillis() { return (int) Math.max(0, Duration.between(clock.instant(), deadline).toMillis()); }
    @Override public String getAwsRequestId() { return "schedule-test"; }
    @Override public String getLogGroupName() { return "/local/ReconcilerFunction"; }
    @Override public String getLogStreamName() { return "local"; }
    @Override public String getFunctionName() { return "ReconcilerFunction"; }
    @Override public String getFunctionVersion() { return "live"; }
    @Override public String getInvokedFunctionArn() { return "arn:aws:lambda:us-east-1:123456789012:function:ReconcilerFunction:live"; }
    @Override public com.amazonaws.services.lambda.runtime.CognitoIdentity getIdentity() { return null; }
    @Override public com.amazonaws.services.lambda.runtime.ClientContext getClientContext() { return null; }
    @Override public int getMemoryLimitInMB() { return 1024; }
    @Override public com.amazonaws.services.lambda.runtime.LambdaLogger getLogger() { return new backstop.local.LocalLambdaContext("ReconcilerFunction", 0).getLogger(); }
}
