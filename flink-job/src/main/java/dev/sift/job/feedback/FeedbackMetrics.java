package dev.sift.job.feedback;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;

/**
 * The feedback join's metrics, under its operator:
 *
 * <ul>
 *   <li>{@code feedbackIn}: feedback records that reached the join;
 *   <li>{@code feedbackJoined}: feedback that was the first for its answer and so decided it (the
 *       sum of every version's {@code feedbackLabeled} plus {@code feedbackUnknownLabel});
 *   <li>{@code feedbackRepeated}: feedback for an answer that already had its first feedback (or
 *       one waiting for it), never judged;
 *   <li>{@code feedbackUnmatched}: feedback whose answer did not come within the TTL, never judged;
 *   <li>{@code feedbackUnknownLabel}: first feedback whose label is none of the answering version's
 *       labels (a typo, another model's label). It is counted in no accuracy figure, because it
 *       says nothing about which of the version's labels was right.
 * </ul>
 *
 * <p>Per model and {@code version} (the groups the inference operator uses, so that Prometheus
 * labels the series {@code model} and {@code version}): counters {@code feedbackLabeled} (answers
 * judged) and {@code feedbackCorrect} (of them, answered with the label the feedback gave), per
 * {@code trueLabel} and {@code answeredLabel} the confusion counter {@code feedbackPairs}, and the
 * gauges {@code liveAccuracyPct} (0 to 100) and {@code liveMacroF1} (0 to 1, the mean F1 over the
 * labels that occur as truth or as answer).
 *
 * <p>Each subtask judges the answers of its own keys, so the gauges are per subtask. Across
 * subtasks add the counters and divide: accuracy = {@code sum(feedbackCorrect) /
 * sum(feedbackLabeled)}, and macro-F1 from the summed {@code feedbackPairs}. The counters are
 * checkpointed with the join ({@link #tallies()}): after a restore they go on from the checkpoint,
 * so their current values, summed over the running subtasks, count every judgement exactly once
 * since the job began, as the join's state does.
 */
final class FeedbackMetrics {

    static final String IN = "feedbackIn";
    static final String JOINED = "feedbackJoined";
    static final String REPEATED = "feedbackRepeated";
    static final String UNMATCHED = "feedbackUnmatched";
    static final String UNKNOWN_LABEL = "feedbackUnknownLabel";
    static final String PAIRS = "feedbackPairs";

    final Counter in;
    final Counter joined;
    final Counter repeated;
    final Counter unmatched;
    final Counter unknownLabel;

    private final Map<String, Counter> counters = new LinkedHashMap<>();
    private final MetricGroup group;
    private final Map<String, MetricGroup> modelGroups = new HashMap<>();
    private final Map<String, Map<Long, VersionFeedback>> versions = new HashMap<>();

    FeedbackMetrics(MetricGroup group) {
        this.group = group;
        in = counter(IN);
        joined = counter(JOINED);
        repeated = counter(REPEATED);
        unmatched = counter(UNMATCHED);
        unknownLabel = counter(UNKNOWN_LABEL);
    }

    private Counter counter(String name) {
        Counter counter = group.counter(name, new SimpleCounter());
        counters.put(name, counter);
        return counter;
    }

    /** Counts a judgement: {@code answer} was given, {@code trueLabel} was right. */
    void judged(Answer answer, String trueLabel) {
        joined.inc();
        version(answer.model, answer.version).add(trueLabel, answer.label, 1);
    }

    /**
     * The figures of {@code model} v{@code version} on this subtask, registered when first used.
     */
    VersionFeedback version(String model, long version) {
        return versions.computeIfAbsent(model, name -> new HashMap<>())
                .computeIfAbsent(
                        version,
                        v ->
                                new VersionFeedback(
                                        modelGroups
                                                .computeIfAbsent(
                                                        model, m -> group.addGroup("model", m))
                                                .addGroup("version", Long.toString(v))));
    }

    /** Every non-zero count, for the checkpoint. */
    List<FeedbackTally> tallies() {
        List<FeedbackTally> tallies = new ArrayList<>();
        counters.forEach(
                (name, counter) -> {
                    if (counter.getCount() != 0) {
                        tallies.add(FeedbackTally.counter(name, counter.getCount()));
                    }
                });
        for (var model : versions.entrySet()) {
            for (var version : model.getValue().entrySet()) {
                for (var row : version.getValue().pairs.entrySet()) {
                    for (var cell : row.getValue().entrySet()) {
                        tallies.add(
                                FeedbackTally.pair(
                                        model.getKey(),
                                        version.getKey(),
                                        row.getKey(),
                                        cell.getKey(),
                                        cell.getValue().getCount()));
                    }
                }
            }
        }
        return tallies;
    }

    /** Adds checkpointed counts (this subtask's share of them, after a rescale). */
    void restore(Iterable<FeedbackTally> tallies) {
        for (FeedbackTally tally : tallies) {
            if (PAIRS.equals(tally.counter)) {
                version(tally.model, tally.version)
                        .add(tally.trueLabel, tally.answeredLabel, tally.count);
            } else {
                Counter counter = counters.get(tally.counter);
                if (counter != null) { // a counter a later version dropped
                    counter.inc(tally.count);
                }
            }
        }
    }

    /** One model version's judged answers on this subtask: its confusion and what follows. */
    static final class VersionFeedback {

        final Counter labeled;
        final Counter correct;

        /** Counts by true label, then by answered label. */
        private final Map<String, Map<String, Counter>> pairs = new HashMap<>();

        private final MetricGroup group;

        private VersionFeedback(MetricGroup group) {
            this.group = group;
            labeled = group.counter("feedbackLabeled");
            correct = group.counter("feedbackCorrect");
            group.gauge("liveAccuracyPct", (Gauge<Double>) this::accuracyPct);
            group.gauge("liveMacroF1", (Gauge<Double>) this::macroF1);
        }

        private void add(String trueLabel, String answeredLabel, long count) {
            pairs.computeIfAbsent(trueLabel, t -> new HashMap<>())
                    .computeIfAbsent(
                            answeredLabel,
                            a ->
                                    group.addGroup("trueLabel", trueLabel)
                                            .addGroup("answeredLabel", a)
                                            .counter(PAIRS))
                    .inc(count);
            labeled.inc(count);
            if (trueLabel.equals(answeredLabel)) {
                correct.inc(count);
            }
        }

        /** How many judged answers said {@code answeredLabel} where {@code trueLabel} was right. */
        long pairs(String trueLabel, String answeredLabel) {
            Counter counter = pairs.getOrDefault(trueLabel, Map.of()).get(answeredLabel);
            return counter == null ? 0 : counter.getCount();
        }

        /** Percent of judged answers that were right; NaN before any was judged. */
        double accuracyPct() {
            long all = labeled.getCount();
            return all == 0 ? Double.NaN : 100.0 * correct.getCount() / all;
        }

        /**
         * The mean over labels of F1 = 2·TP / (2·TP + FP + FN), over every label that occurs as
         * truth or as answer (each such label has a positive denominator); NaN before any answer
         * was judged.
         */
        double macroF1() {
            Set<String> labels = new TreeSet<>();
            pairs.forEach(
                    (trueLabel, row) ->
                            row.forEach(
                                    (answered, counter) -> {
                                        if (counter.getCount() > 0) {
                                            labels.add(trueLabel);
                                            labels.add(answered);
                                        }
                                    }));
            if (labels.isEmpty()) {
                return Double.NaN;
            }
            double sum = 0;
            for (String label : labels) {
                long truePositives = pairs(label, label);
                long falsePositives = 0;
                long falseNegatives = 0;
                for (String other : labels) {
                    if (!Objects.equals(other, label)) {
                        falsePositives += pairs(other, label);
                        falseNegatives += pairs(label, other);
                    }
                }
                sum +=
                        2.0
                                * truePositives
                                / (2.0 * truePositives + falsePositives + falseNegatives);
            }
            return sum / labels.size();
        }
    }
}
