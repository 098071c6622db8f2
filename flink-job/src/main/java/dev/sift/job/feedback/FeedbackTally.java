package dev.sift.job.feedback;

import java.util.Objects;

/**
 * One count of {@link FeedbackMetrics} as checkpointed: an operator-level counter ({@code counter}
 * its name, the other fields unset) or one cell of a version's confusion ({@code counter} = {@code
 * feedbackPairs}). Kept in operator list state, so the figures survive a restore and, on a rescale,
 * are only redistributed: every tally lands on exactly one subtask, which adds it to its own. A
 * Flink POJO: fields may be added, never removed.
 */
public final class FeedbackTally {

    public String counter;
    public String model;
    public long version;
    public String trueLabel;
    public String answeredLabel;
    public long count;

    public FeedbackTally() {}

    static FeedbackTally counter(String counter, long count) {
        FeedbackTally tally = new FeedbackTally();
        tally.counter = counter;
        tally.count = count;
        return tally;
    }

    static FeedbackTally pair(
            String model, long version, String trueLabel, String answeredLabel, long count) {
        FeedbackTally tally = counter(FeedbackMetrics.PAIRS, count);
        tally.model = model;
        tally.version = version;
        tally.trueLabel = trueLabel;
        tally.answeredLabel = answeredLabel;
        return tally;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FeedbackTally that
                && Objects.equals(counter, that.counter)
                && Objects.equals(model, that.model)
                && version == that.version
                && Objects.equals(trueLabel, that.trueLabel)
                && Objects.equals(answeredLabel, that.answeredLabel)
                && count == that.count;
    }

    @Override
    public int hashCode() {
        return Objects.hash(counter, model, version, trueLabel, answeredLabel, count);
    }

    @Override
    public String toString() {
        return counter
                + (model == null
                        ? ""
                        : "{"
                                + model
                                + " v"
                                + version
                                + " "
                                + trueLabel
                                + "/"
                                + answeredLabel
                                + "}")
                + "="
                + count;
    }
}
