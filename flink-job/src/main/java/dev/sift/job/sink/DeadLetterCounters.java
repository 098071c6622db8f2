package dev.sift.job.sink;

import dev.sift.schemas.ErrorCode;
import java.util.EnumMap;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

/**
 * An operator's dead letters by {@link ErrorCode}: the counter {@code code.<CODE>.deadLetters},
 * registered on first use, so the dashboard lists only the codes that occurred.
 */
public final class DeadLetterCounters {

    private final MetricGroup group;
    private final Map<ErrorCode, Counter> counters = new EnumMap<>(ErrorCode.class);

    public DeadLetterCounters(MetricGroup group) {
        this.group = group;
    }

    public void inc(ErrorCode code) {
        counters.computeIfAbsent(code, c -> group.addGroup("code", c.name()).counter("deadLetters"))
                .inc();
    }
}
