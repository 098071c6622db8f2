package dev.sift.job.sink;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A record for Kafka: its topic, key, value and headers. Results and dead letters both travel as
 * these, so one transactional sink commits them together. Inside the job the value is the Avro
 * single-object encoding of a {@code ClassificationResult} or {@code DeadLetter}; {@link
 * OutRecordSerializer} writes it in the configured output format. Headers are UTF-8 text ({@code
 * OutputHeaders}). A Flink POJO.
 */
public final class OutRecord {

    public String topic;
    public byte[] key;
    public byte[] value;
    public Map<String, String> headers = new LinkedHashMap<>();

    public OutRecord() {}

    public OutRecord(String topic, byte[] key, byte[] value) {
        this(topic, key, value, Map.of());
    }

    public OutRecord(String topic, byte[] key, byte[] value, Map<String, String> headers) {
        this.topic = topic;
        this.key = key;
        this.value = value;
        this.headers = new LinkedHashMap<>(headers);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OutRecord that
                && topic.equals(that.topic)
                && Arrays.equals(key, that.key)
                && Arrays.equals(value, that.value)
                && Objects.equals(headers, that.headers);
    }

    @Override
    public int hashCode() {
        return 31 * topic.hashCode() + Arrays.hashCode(value);
    }
}
