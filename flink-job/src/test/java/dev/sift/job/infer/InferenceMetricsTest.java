package dev.sift.job.infer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.model.encode.PassCost;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.testutils.MetricListener;
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
}
