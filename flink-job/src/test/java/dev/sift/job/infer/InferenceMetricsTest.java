package dev.sift.job.infer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sift.model.encode.PassCost;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.LabelProbability;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.testutils.MetricListener;
import org.apache.flink.runtime.metrics.groups.GenericMetricGroup;
import org.apache.flink.runtime.metrics.util.TestingMetricRegistry;
import org.junit.jupiter.api.Test;

class InferenceMetricsTest {

    @Test
    void exposesEachEncodersMeasuredPassOverhead() {
        MetricListener listener = new MetricListener();
        InferenceMetrics metrics = new InferenceMetrics(listener.getMetricGroup());

        metrics.encoderServing("0123456789abcdef0123", new PassCost(46, 0.55));
        // A second model on the same encoder registers nothing new (Flink would log a clash).
        metrics.encoderServing("0123456789abcdef0123", new PassCost(46, 0.55));

        Gauge<Integer> overhead =
                listener.<Integer>getGauge("encoder", "0123456789ab", "passOverheadTokens")
                        .orElseThrow();
        assertThat(overhead.getValue()).isEqualTo(84);
    }

    @Test
    void showsLoadsUnderWayAndWhatTheTaskManagerHolds() {
        MetricListener listener = new MetricListener();
        InferenceMetrics metrics = new InferenceMetrics(listener.getMetricGroup());
        java.util.concurrent.atomic.AtomicInteger pending =
                new java.util.concurrent.atomic.AtomicInteger(2);
        metrics.loads(pending::get);

        assertThat(listener.<Integer>getGauge("pendingLoads").orElseThrow().getValue())
                .isEqualTo(2);
        pending.set(0);
        assertThat(listener.<Integer>getGauge("pendingLoads").orElseThrow().getValue()).isZero();
        assertThat(listener.<Integer>getGauge("encodersLoaded").orElseThrow().getValue())
                .isEqualTo(dev.sift.model.encode.SharedEncoders.loadedCount());
        assertThat(listener.<Integer>getGauge("topsLive").orElseThrow().getValue())
                .isEqualTo(dev.sift.model.finetune.SharedTops.liveCount());
    }

    @Test
    void countsEachVersionsAnswersByStageAndTheShareThatReachedTheEncoder() {
        MetricListener listener = new MetricListener();
        InferenceMetrics metrics = new InferenceMetrics(listener.getMetricGroup());

        metrics.answered(result(3, "ngram", 0.9f), null, null);
        metrics.answered(result(3, "ngram", 0.9f), null, null);
        metrics.answered(result(3, "ngram", 0.9f), null, null);
        metrics.answered(result(3, "encoder", 0.9f), null, null);
        metrics.answered(result(4, "encoder", 0.9f), null, null);

        assertThat(
                        listener.getCounter("model", "spam", "version", "3", "answeredByNgram")
                                .orElseThrow()
                                .getCount())
                .isEqualTo(3);
        assertThat(
                        listener.getCounter("model", "spam", "version", "3", "answeredByEncoder")
                                .orElseThrow()
                                .getCount())
                .isEqualTo(1);
        assertThat(
                        listener.<Long>getGauge("model", "spam", "version", "3", "encoderSharePct")
                                .orElseThrow()
                                .getValue())
                .isEqualTo(25);
        assertThat(
                        listener.<Long>getGauge("model", "spam", "version", "4", "encoderSharePct")
                                .orElseThrow()
                                .getValue())
                .isEqualTo(100);
    }

    @Test
    void eachVersionShowsHowSureItWasAndWhichLabelsItGaveOverItsLastAnswers() {
        MetricListener listener = new MetricListener();
        InferenceMetrics metrics = new InferenceMetrics(listener.getMetricGroup());

        for (int i = 0; i < 3; i++) {
            metrics.answered(result(3, "encoder", 0.99f), null, null);
        }
        metrics.answered(result(3, "encoder", 0.4f), null, null); // ham at 0.6

        assertThat(versionGauge("meanTopProbability", listener))
                .isCloseTo((3 * 0.99 + 0.6) / 4, within(1e-6));
        assertThat(versionGauge("lowConfidencePct", listener)).isCloseTo(25, within(1e-9));
        assertThat(
                        listener.<Double>getGauge(
                                        "model",
                                        "spam",
                                        "version",
                                        "3",
                                        "label",
                                        "spam",
                                        "answerPct")
                                .orElseThrow()
                                .getValue())
                .isCloseTo(75, within(1e-9));
        // Published without a test-set profile: nothing to hold the answers to.
        assertThat(versionGauge("confidencePsi", listener)).isNaN();
        assertThat(metrics.drift("spam", 3).size()).isEqualTo(4);
    }

    private static double versionGauge(String name, MetricListener listener) {
        return listener.<Double>getGauge("model", "spam", "version", "3", name)
                .orElseThrow()
                .getValue();
    }

    /** A result of spam v{@code version} giving spam probability {@code spam}. */
    private static ClassificationResult result(long version, String stage, float spam) {
        boolean isSpam = spam >= 0.5f;
        return ClassificationResult.newBuilder()
                .setId("r")
                .setModel("spam")
                .setModelVersion(version)
                .setEncoderHash("0123456789ab")
                .setLabel(isSpam ? "spam" : "ham")
                .setLabelIndex(isSpam ? 1 : 0)
                .setProbability(isSpam ? spam : 1 - spam)
                .setProbabilities(
                        List.of(
                                new LabelProbability("ham", 1 - spam),
                                new LabelProbability("spam", spam)))
                .setLatencyMillis(1)
                .setAttributes(Map.of())
                .setStage(stage)
                .build();
    }

    @Test
    void countsEncoderPassesTrunkPassesAndTopRunsUnderTheirDashboardNames() {
        MetricListener listener = new MetricListener();
        InferenceMetrics metrics = new InferenceMetrics(listener.getMetricGroup());

        metrics.encoderPasses.inc(3);
        metrics.trunkPasses.inc(2);
        metrics.topRuns.inc(4);

        assertThat(listener.getCounter("encoderPasses").orElseThrow().getCount()).isEqualTo(3);
        assertThat(listener.getCounter("trunkPasses").orElseThrow().getCount()).isEqualTo(2);
        assertThat(listener.getCounter("topRuns").orElseThrow().getCount()).isEqualTo(4);
    }

    @Test
    void aRetiredModelsVersionGaugeIsUnregisteredAndComesBackWhenItServesAgain() {
        Map<String, Metric> registered = new HashMap<>();
        TestingMetricRegistry registry =
                TestingMetricRegistry.builder()
                        .setRegisterConsumer(
                                (metric, name, group) ->
                                        registered.put(group.getMetricIdentifier(name), metric))
                        .setUnregisterConsumer(
                                (metric, name, group) ->
                                        registered.remove(group.getMetricIdentifier(name)))
                        .build();
        InferenceMetrics metrics =
                new InferenceMetrics(new GenericMetricGroup(registry, null, "infer"));
        String gauge = "infer.model.spam.activeVersion";

        metrics.modelServing(
                "spam",
                () -> OptionalLong.of(3),
                () -> true,
                OptionalLong::empty,
                OptionalLong::empty);
        assertThat(((Gauge<?>) registered.get(gauge)).getValue()).isEqualTo(3L);
        assertThat(((Gauge<?>) registered.get("infer.model.spam.servingBehind")).getValue())
                .isEqualTo(1);

        metrics.modelRetired("spam");
        assertThat(registered).doesNotContainKey(gauge);

        metrics.modelServing(
                "spam",
                () -> OptionalLong.of(4),
                () -> false,
                OptionalLong::empty,
                OptionalLong::empty);
        assertThat(((Gauge<?>) registered.get(gauge)).getValue()).isEqualTo(4L);
    }
}
