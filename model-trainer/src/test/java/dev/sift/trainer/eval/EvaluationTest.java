package dev.sift.trainer.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sift.model.head.ClassificationHead;
import java.util.List;
import org.junit.jupiter.api.Test;

class EvaluationTest {

    // Identity head on 2-d one-hot-ish inputs: the prediction is the larger coordinate.
    private final ClassificationHead head =
            new ClassificationHead(new float[] {1, 0, 0, 1}, new float[2], List.of("ham", "spam"));

    @Test
    void confusionMatrixAndPerClassFigures() {
        float[][] x = {{3, 0}, {3, 0}, {0, 3}, {3, 0}, {0, 3}};
        int[] y = {0, 0, 0, 1, 1};

        Evaluation e = Evaluation.of(head, x, y, List.of("easy", "easy", "hard", "spam", "spam"));

        assertThat(e.confusion()).isDeepEqualTo(new int[][] {{2, 1}, {1, 1}});
        assertThat(e.accuracy()).isEqualTo(0.6);
        assertThat(e.precision()[0]).isCloseTo(2 / 3.0, within(1e-12));
        assertThat(e.recall()[1]).isCloseTo(0.5, within(1e-12));
        assertThat(e.macroF1()).isCloseTo((2 / 3.0 + 0.5) / 2, within(1e-12));
        assertThat(e.support()).containsExactly(3, 2);
        assertThat(e.asMetrics())
                .containsEntry("support.ham", 3.0)
                .containsEntry("support.spam", 2.0);
        assertThat(e.errorsByGroup().get("hard")).containsExactly(1, 1);
        assertThat(e.errorsByGroup().get("easy")).containsExactly(2, 0);
        // Every prediction has confidence σ(3) ≈ 0.9526 and 60% are right.
        double confidence = 1 / (1 + Math.exp(-3));
        assertThat(e.expectedCalibrationError()).isCloseTo(confidence - 0.6, within(1e-6));
        assertThat(e.logLoss())
                .isCloseTo(
                        (3 * -Math.log(confidence) + 2 * -Math.log(1 - confidence)) / 5,
                        within(1e-6));
    }
}
