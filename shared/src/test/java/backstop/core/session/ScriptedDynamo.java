package backstop.core.session;

import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsResponse;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemResponse;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Function;

/** A DynamoDbClient for unit tests: answers from scripts the test fills, records every request. */
final class ScriptedDynamo implements DynamoDbClient {
    final List<QueryRequest> queries = new ArrayList<>();
    final Deque<QueryResponse> pages = new ArrayDeque<>();
    /** Answers a query when no page is scripted. */
    Function<QueryRequest, QueryResponse> queryAnswer = request -> QueryResponse.builder().build();
    final List<BatchGetItemRequest> batchGets = new ArrayList<>();
    Function<BatchGetItemRequest, BatchGetItemResponse> batchGetAnswer;
    final List<TransactWriteItemsRequest> transactions = new ArrayList<>();
    final Deque<RuntimeException> transactionAnswers = new ArrayDeque<>();
    RuntimeException updateAnswer;

    /** An error as the SDK builds it from DynamoDB's answer (HTTP 400, the error code and message it sent). */
    static DynamoDbException serviceError(String code, String message) {
        return (DynamoDbException) DynamoDbException.builder().statusCode(400).message(message)
                .awsErrorDetails(AwsErrorDetails.builder().serviceName("DynamoDb").errorCode(code).errorMessage(message).build())
                .build();
    }

    @Override
    public QueryResponse query(QueryRequest request) {
        queries.add(request);
        return pages.isEmpty() ? queryAnswer.apply(request) : pages.removeFirst();
    }

    @Override
    public BatchGetItemResponse batchGetItem(BatchGetItemRequest request) {
        batchGets.add(request);
        return batchGetAnswer.apply(request);
    }

    @Override
    public TransactWriteItemsResponse transactWriteItems(TransactWriteItemsRequest request) {
        transactions.add(request);
        RuntimeException answer = transactionAnswers.poll();
        if (answer != null) {
            throw answer;
        }
        return TransactWriteItemsResponse.builder().build();
    }

    @Override
    public UpdateItemResponse updateItem(UpdateItemRequest request) {
        if (updateAnswer != null) {
            throw updateAnswer;
        }
        return UpdateItemResponse.builder().build();
    }

    @Override
    public String serviceName() {
        return "dynamodb";
    }

    @Override
    public void close() {
    }
}
