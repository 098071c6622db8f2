package dev.sift.job.feedback;

import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.LabelProbability;
import java.util.Arrays;
import java.util.Objects;

/**
 * One answer the job gave: which version of which model labeled which request, and how. Feedback is
 * judged against it ({@link FeedbackJoin}). {@code labels} are the answering version's labels, so a
 * feedback label the version cannot give (a typo, another model's label) is told apart from a wrong
 * answer. A Flink POJO: fields may be added, never removed.
 */
public final class Answer {

    public String id;
    public String model;
    public long version;

    /** The label the version answered with. */
    public String label;

    /** Every label the version answers with, in its order. */
    public String[] labels = new String[0];

    /** When the job emitted the answer, epoch milliseconds. */
    public long answeredAtMillis;

    public Answer() {}

    public Answer(
            String id,
            String model,
            long version,
            String label,
            String[] labels,
            long answeredAtMillis) {
        this.id = id;
        this.model = model;
        this.version = version;
        this.label = label;
        this.labels = labels.clone();
        this.answeredAtMillis = answeredAtMillis;
    }

    /** The answer {@code result} gave, emitted at {@code answeredAtMillis}. */
    public static Answer of(ClassificationResult result, long answeredAtMillis) {
        return new Answer(
                result.getId(),
                result.getModel(),
                result.getModelVersion(),
                result.getLabel(),
                result.getProbabilities().stream()
                        .map(LabelProbability::getLabel)
                        .toArray(String[]::new),
                answeredAtMillis);
    }

    /** Whether the answering version has {@code label} among its labels. */
    public boolean knows(String label) {
        return Arrays.asList(labels).contains(label);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Answer that
                && Objects.equals(id, that.id)
                && Objects.equals(model, that.model)
                && version == that.version
                && Objects.equals(label, that.label)
                && Arrays.equals(labels, that.labels)
                && answeredAtMillis == that.answeredAtMillis;
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, model, version, label);
    }

    @Override
    public String toString() {
        return "Answer{" + model + " v" + version + " " + id + " -> " + label + "}";
    }
}
