package backstop.local.bench;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.apache.logging.log4j.layout.template.json.JsonTemplateLayout;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The bytes of the functions' own log lines, by operation, each line written as Lambda writes it: the functions'
 * JSON layout (Powertools' {@code LambdaJsonLayout.json}, what log4j2.xml in each function uses) at the levels
 * their log4j2.xml keeps (backstop INFO, everything else WARN). CloudWatch Logs bills ingestion by these bytes.
 * Benchmarks only.
 */
final class LogBytes extends AbstractAppender implements AutoCloseable {
    private final Map<String, LongAdder> bytes = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> lines = new ConcurrentHashMap<>();
    private final Supplier<String> operation;
    private final LoggerContext context;

    LogBytes(Supplier<String> operation) {
        super("cost-benchmark-log-bytes", null, JsonTemplateLayout.newBuilder()
                .setConfiguration(((LoggerContext) LogManager.getContext(false)).getConfiguration())
                .setEventTemplateUri("classpath:LambdaJsonLayout.json").build(), true, Property.EMPTY_ARRAY);
        this.operation = operation;
        this.context = (LoggerContext) LogManager.getContext(false);
        start();
        Configuration configuration = context.getConfiguration();
        for (LoggerConfig logger : configuration.getLoggers().values()) {
            logger.addAppender(this, null, null);
        }
        configuration.getRootLogger().addAppender(this, null, null);
        context.updateLoggers();
    }

    @Override
    public void append(LogEvent event) {
        boolean kept = event.getLoggerName().startsWith("backstop") ? event.getLevel().isMoreSpecificThan(org.apache.logging.log4j.Level.INFO)
                : event.getLevel().isMoreSpecificThan(org.apache.logging.log4j.Level.WARN);
        if (kept) {
            String op = operation.get();
            bytes.computeIfAbsent(op, k -> new LongAdder()).add(getLayout().toByteArray(event).length);
            lines.computeIfAbsent(op, k -> new LongAdder()).increment();
        }
    }

    long bytes(String operation) {
        LongAdder b = bytes.get(operation);
        return b == null ? 0 : b.sum();
    }

    long lines(String operation) {
        LongAdder l = lines.get(operation);
        return l == null ? 0 : l.sum();
    }

    @Override
    public void close() {
        Configuration configuration = context.getConfiguration();
        for (LoggerConfig logger : configuration.getLoggers().values()) {
            logger.removeAppender(getName());
        }
        configuration.getRootLogger().removeAppender(getName());
        context.updateLoggers();
        stop();
    }
}
