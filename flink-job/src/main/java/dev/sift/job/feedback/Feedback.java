package dev.sift.job.feedback;

import java.util.Objects;

/**
 * One decoded feedback record: the label a user or moderator says request {@code id} should have
 * had from {@code model}. It keeps where it was read (topic, partition, offset) for logs and for
 * finding the record again; its bytes stay behind in Kafka, since nothing after decoding
 * dead-letters feedback and a copy in every waiting entry of {@link FeedbackJoin}'s state would
 * only make that state larger. A Flink POJO: fields may be added, never removed.
 */
public final class Feedback {

    public String id;
    public String model;
    public String label;

    /** Where the record was read. */
    public String topic;

    public int partition;
    public long offset;

    /** The Kafka timestamp, epoch milliseconds. */
    public long timestamp;

    public Feedback() {}

    public Feedback(String id, String model, String label) {
        this.id = id;
        this.model = model;
        this.label = label;
    }

    /** This feedback, noting that it was read at {@code topic-partition@offset}. */
    public Feedback from(String topic, int partition, long offset, long timestamp) {
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
        this.timestamp = timestamp;
        return this;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Feedback that
                && Objects.equals(id, that.id)
                && Objects.equals(model, that.model)
                && Objects.equals(label, that.label)
                && Objects.equals(topic, that.topic)
                && partition == that.partition
                && offset == that.offset
                && timestamp == that.timestamp;
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, model, label);
    }

    @Override
    public String toString() {
        return "Feedback{"
                + model
                + " "
                + id
                + " is "
                + label
                + " @"
                + topic
                + "-"
                + partition
                + ":"
                + offset
                + "}";
    }
}
