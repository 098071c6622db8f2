package dev.sift.job.infer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.model.encode.PassCost;
import java.util.HashMap;
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

        metrics.answered("spam", 3, "ngram");
        metrics.answered("spam", 3, "ngram");
        metrics.answered("spam", 3, "ngram");
        metrics.answered("spam", 3, "encoder");
        metrics.answered("spam", 4, "encoder");

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

        metrics.modelServing("spam", () -> OptionalLong.of(3), () -> true);
        assertThat(((Gauge<?>) registered.get(gauge)).getValue()).isEqualTo(3L);
        assertThat(((Gauge<?>) registered.get("infer.model.spam.servingBehind")).getValue())
                .isEqualTo(1);

        metrics.modelRetired("spam");
        assertThat(registered).doesNotContainKey(gauge);

        metrics.modelServing("spam", () -> OptionalLong.of(4), () -> false);
        assertThat(((Gauge<?>) registered.get(gauge)).getValue()).isEqualTo(4L);
    }
}
