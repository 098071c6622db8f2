package dev.sift.job.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.apache.flink.metrics.testutils.MetricListener;
import org.junit.jupiter.api.Test;

class FeedbackMetricsTest {

    @Test
    void publishesEachVersionsFiguresUnderItsModelAndVersion() {
        MetricListener listener = new MetricListener();
        FeedbackMetrics metrics = new FeedbackMetrics(listener.getMetricGroup());

        judge(metrics, 3, "spam", "spam", 3);
        judge(metrics, 3, "ham", "spam", 1);
        judge(metrics, 4, "ham", "ham", 2);

        assertThat(counter(listener, "3", "feedbackLabeled")).isEqualTo(4);
        assertThat(counter(listener, "3", "feedbackCorrect")).isEqualTo(3);
        assertThat(
                        listener.getCounter(
                                        "model",
                                        "spam",
                                        "version",
                                        "3",
                                        "trueLabel",
                                        "ham",
                                        "answeredLabel",
                                        "spam",
                                        "feedbackPairs")
                                .orElseThrow()
                                .getCount())
                .isEqualTo(1);
        assertThat(gauge(listener, "3", "liveAccuracyPct")).isCloseTo(75, within(1e-9));
        // spam: TP 3, FP 1, FN 0: 6/7. ham: TP 0, FP 0, FN 1: 0. Mean 3/7.
        assertThat(gauge(listener, "3", "liveMacroF1")).isCloseTo(3.0 / 7, within(1e-9));
        assertThat(gauge(listener, "4", "liveAccuracyPct")).isCloseTo(100, within(1e-9));
        assertThat(gauge(listener, "4", "liveMacroF1")).isCloseTo(1, within(1e-9));
        assertThat(listener.getCounter("feedbackJoined").orElseThrow().getCount()).isEqualTo(6);
        for (String name :
                new String[] {
                    "feedbackIn", "feedbackRepeated", "feedbackUnmatched", "feedbackUnknownLabel"
                }) {
            assertThat(listener.getCounter(name)).as(name).isPresent();
        }
    }

    @Test
    void itsCheckpointedTalliesRestoreEveryCount() {
        FeedbackMetrics before = new FeedbackMetrics(new MetricListener().getMetricGroup());
        judge(before, 3, "spam", "spam", 2);
        judge(before, 3, "ham", "spam", 1);
        before.in.inc(5);
        before.repeated.inc(2);

        MetricListener listener = new MetricListener();
        FeedbackMetrics after = new FeedbackMetrics(listener.getMetricGroup());
        after.restore(before.tallies());

        assertThat(counter(listener, "3", "feedbackLabeled")).isEqualTo(3);
        assertThat(counter(listener, "3", "feedbackCorrect")).isEqualTo(2);
        assertThat(gauge(listener, "3", "liveAccuracyPct")).isCloseTo(200.0 / 3, within(1e-9));
        assertThat(after.in.getCount()).isEqualTo(5);
        assertThat(after.repeated.getCount()).isEqualTo(2);
        assertThat(after.joined.getCount()).isEqualTo(3);
        assertThat(after.unmatched.getCount()).isZero();
    }

    private static void judge(
            FeedbackMetrics metrics, long version, String truth, String answered, int times) {
        Answer answer = new Answer("r", "spam", version, answered, new String[] {"ham", "spam"}, 0);
        for (int i = 0; i < times; i++) {
            metrics.judged(answer, truth);
        }
    }

    private static long counter(MetricListener listener, String version, String name) {
        return listener.getCounter("model", "spam", "version", version, name)
                .orElseThrow()
                .getCount();
    }

    private static double gauge(MetricListener listener, String version, String name) {
        return listener.<Double>getGauge("model", "spam", "version", version, name)
                .orElseThrow()
                .getValue();
    }
}
