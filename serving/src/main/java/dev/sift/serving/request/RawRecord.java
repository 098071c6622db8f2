package dev.sift.serving.request;

/**
 * A Kafka record as the source hands it over, before any decoding: nothing about its value is
 * trusted yet. A Flink POJO.
 */
public final class RawRecord {

    public String topic;
    public int partition;
    public long offset;
    public long timestamp;
    public byte[] key;
    public byte[] value;

    public RawRecord() {}

    public RawRecord(
            String topic, int partition, long offset, long timestamp, byte[] key, byte[] value) {
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
        this.timestamp = timestamp;
        this.key = key;
        this.value = value;
    }
}
