package backstop.local.aws;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything published on the backstop's bus, copied to an SQS queue by a rule (as a user's rule would route
 * them), so the tests and the ops view can read the events that really went through EventBridge.
 */
public final class EventTap {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final SqsClient sqs;
    private final String queueUrl;
    private final List<JsonNode> seen = new ArrayList<>();

    private EventTap(SqsClient sqs, String queueUrl) {
        this.sqs = sqs;
        this.queueUrl = queueUrl;
    }

    public static EventTap attach(EventBridgeClient eventBridge, SqsClient sqs, String busName) {
        String queueName = busName + "-tap";
        String queueUrl = sqs.createQueue(r -> r.queueName(queueName)).queueUrl();
        String queueArn = sqs.getQueueAttributes(r -> r.queueUrl(queueUrl).attributeNames(QueueAttributeName.QUEUE_ARN))
                .attributes().get(QueueAttributeName.QUEUE_ARN);
        eventBridge.putRule(r -> r.name(busName + "-all").eventBusName(busName)
                .eventPattern("{\"source\":[\"ccp-backstop\"]}"));
        eventBridge.putTargets(r -> r.rule(busName + "-all").eventBusName(busName)
                .targets(t -> t.id("tap").arn(queueArn)));
        return new EventTap(sqs, queueUrl);
    }

    /** Every event seen so far (oldest first), after reading what arrived since the last call. */
    public synchronized List<JsonNode> events() {
        while (true) {
            List<Message> messages = sqs.receiveMessage(r -> r.queueUrl(queueUrl).maxNumberOfMessages(10).waitTimeSeconds(0))
                    .messages();
            if (messages.isEmpty()) {
                return List.copyOf(seen);
            }
            for (Message message : messages) {
                try {
                    seen.add(JSON.readTree(message.body()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                sqs.deleteMessage(r -> r.queueUrl(queueUrl).receiptHandle(message.receiptHandle()));
            }
        }
    }

    /** Events of one detail type whose detail has {@code field} = {@code value}. */
    public List<JsonNode> events(String detailType, String field, String value) {
        return events().stream().filter(e -> e.path("detail-type").asText().equals(detailType)
                && e.path("detail").path(field).asText().equals(value)).toList();
    }

    public synchronized void forget() {
        events();
        seen.clear();
    }
}
