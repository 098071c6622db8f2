package dev.sift.job.sink;

import java.util.Arrays;

/**
 * A record ready for Kafka: its topic, key and serialized value. Results and dead letters both
 * travel as these, so one transactional sink commits them together. A Flink POJO.
 */
public final class OutRecord {

    public String topic;
    public byte[] key;
    public byte[] value;

    public OutRecord() {}

    public OutRecord(String topic, byte[] key, byte[] value) {
        this.topic = topic;
        this.key = key;
        this.value = value;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OutRecord that
                && topic.equals(that.topic)
                && Arrays.equals(key, that.key)
                && Arrays.equals(value, that.value);
    }

    @Override
    public int hashCode() {
        return 31 * topic.hashCode() + Arrays.hashCode(value);
    }
}
