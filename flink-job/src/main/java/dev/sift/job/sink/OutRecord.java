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
 * OutputHeaders}). The source fields name the request record it answers, for the dead letter that
 * replaces it if the producer would refuse it. A Flink POJO: fields may be added, never removed.
 */
public final class OutRecord {

    public String topic;
    public byte[] key;
    public byte[] value;
    public Map<String, String> headers = new LinkedHashMap<>();

    /** Where the request this record answers was read: topic, partition and offset. */
    public String sourceTopic;

    public int sourcePartition;
    public long sourceOffset;

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

    /** This record, noting that it answers the request at {@code topic-partition@offset}. */
    public OutRecord from(String topic, int partition, long offset) {
        this.sourceTopic = topic;
        this.sourcePartition = partition;
        this.sourceOffset = offset;
        return this;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OutRecord that
                && topic.equals(that.topic)
                && Arrays.equals(key, that.key)
                && Arrays.equals(value, that.value)
                && Objects.equals(headers, that.headers)
                && Objects.equals(sourceTopic, that.sourceTopic)
                && sourcePartition == that.sourcePartition
                && sourceOffset == that.sourceOffset;
    }

    @Override
    public int hashCode() {
        return 31 * topic.hashCode() + Arrays.hashCode(value);
    }
}
