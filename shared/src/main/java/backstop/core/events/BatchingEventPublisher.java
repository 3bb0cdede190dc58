package backstop.core.events;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Holds events until {@link #flush()}, then sends them ten to a PutEvents call: the reconciler ends up to a
 * hundred transitions per chunk, and one call per event would cost ten times the requests. A staged event waits
 * here with its row already on the table, so a run stopped before the flush loses nothing: the relay sends it.
 */
public final class BatchingEventPublisher implements EventPublisher {
    private static final Logger LOG = LoggerFactory.getLogger(BatchingEventPublisher.class);
    private final EventPublisher delegate;
    private final List<StagedEvent> pending = new ArrayList<>();
    /** One sender thread: batches go out in order, and never hold back the caller's Connect work. */
    private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "event-publisher");
        thread.setDaemon(true);
        return thread;
    });
    private final List<Future<?>> inFlight = new ArrayList<>();

    public BatchingEventPublisher(EventPublisher delegate) {
        this.delegate = delegate;
    }

    @Override
    public synchronized void publish(List<? extends BackstopEvent> events) {
        events.forEach(event -> pending.add(StagedEvent.withoutRow(event)));
    }

    @Override
    public StagedEvent stage(BackstopEvent event) {
        return delegate.stage(event);
    }

    @Override
    public synchronized void publishStaged(List<StagedEvent> events) {
        pending.addAll(events);
    }

    /** Hands what is held to the sender thread and returns at once. */
    public synchronized void flushInBackground() {
        inFlight.removeIf(Future::isDone);
        inFlight.add(sender.submit(this::flush));
    }

    /** Waits until everything handed over so far is sent (or logged as not sent). */
    public void awaitPublished() {
        List<Future<?>> waiting;
        synchronized (this) {
            waiting = List.copyOf(inFlight);
        }
        for (Future<?> batch : waiting) {
            try {
                batch.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                LOG.error("event batch failed: {}", e.getCause().toString());
            }
        }
        flush();
    }

    /** Sends what is held; what EventBridge still refuses after the delegate's retries is logged, not lost silently. */
    public void flush() {
        List<StagedEvent> sending;
        synchronized (this) {
            sending = List.copyOf(pending);
            pending.clear();
        }
        if (sending.isEmpty()) {
            return;
        }
        try {
            delegate.publishStaged(sending);
        } catch (RuntimeException e) {
            LOG.error("{} audit event(s) not published: {}", sending.size(), e.toString());
        }
    }
}
