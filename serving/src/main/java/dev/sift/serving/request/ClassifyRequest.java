package dev.sift.serving.request;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A validated request as it travels through the job: a text ({@code textB == null}) or a pair, the
 * models to apply (empty for the defaults), pass-through attributes, and the times needed for
 * latency. A Flink POJO: public no-argument constructor and public fields.
 */
public final class ClassifyRequest {

    public String id;
    public String text;
    public String textB;
    public List<String> models = new ArrayList<>();
    public Map<String, String> attributes = new HashMap<>();

    /** Producer's event time or the Kafka timestamp, epoch milliseconds. */
    public long eventTimeMillis;

    /** Where it came from, for dead letters raised after decoding. */
    public String topic;

    public int partition;
    public long offset;
    public byte[] originalKey;
    public byte[] originalValue;

    public ClassifyRequest() {}

    public boolean isPair() {
        return textB != null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClassifyRequest that
                && Objects.equals(id, that.id)
                && Objects.equals(text, that.text)
                && Objects.equals(textB, that.textB)
                && Objects.equals(models, that.models)
                && Objects.equals(attributes, that.attributes)
                && eventTimeMillis == that.eventTimeMillis
                && Objects.equals(topic, that.topic)
                && partition == that.partition
                && offset == that.offset;
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, topic, partition, offset);
    }

    @Override
    public String toString() {
        return "ClassifyRequest{" + id + " @" + topic + "-" + partition + ":" + offset + "}";
    }
}
