package dev.sift.model.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class ClassificationHeadTest {

    // d = 2, k = 3: W = [[1, 0, -1], [0.5, 2, 0]], b = [0, 0.1, -0.1]
    private final ClassificationHead head =
            new ClassificationHead(
                    new float[] {1, 0, -1, 0.5f, 2, 0},
                    new float[] {0, 0.1f, -0.1f},
                    List.of("neg", "neu", "pos"));

    @Test
    void logitsAreHTimesWPlusB() {
        double[] z = head.logits(new float[] {2, -1});

        assertThat(z[0]).isCloseTo(2 * 1 + -1 * 0.5, within(1e-6));
        assertThat(z[1]).isCloseTo(2 * 0 + -1 * 2 + 0.1, within(1e-6));
        assertThat(z[2]).isCloseTo(2 * -1 + -1 * 0 - 0.1, within(1e-6));
    }

    @Test
    void probabilitiesAreASoftmaxThatSumsToOne() {
        float[] p = head.probabilities(new float[] {2, -1});
        double[] z = {1.5, -1.9, -2.1};
        double norm = Math.exp(z[0]) + Math.exp(z[1]) + Math.exp(z[2]);

        for (int j = 0; j < 3; j++) {
            assertThat((double) p[j]).isCloseTo(Math.exp(z[j]) / norm, within(1e-7));
        }
        assertThat(ClassificationHead.argMax(p)).isZero();
    }

    @Test
    void softmaxStaysFiniteForHugeLogits() {
        double[] p = ClassificationHead.softmax(new double[] {1000, 999, -1000});

        assertThat(p[0]).isCloseTo(1 / (1 + Math.exp(-1)), within(1e-12));
        assertThat(p[2]).isZero();
    }

    @Test
    void refusesMismatchedShapes() {
        assertThatThrownBy(() -> head.probabilities(new float[3]))
                .hasMessage("Head expects vectors of size 2, got 3");
        assertThatThrownBy(
                        () -> new ClassificationHead(new float[4], new float[3], List.of("a", "b")))
                .hasMessageContaining("Bias has 3 values but there are 2 labels");
        assertThatThrownBy(
                        () -> new ClassificationHead(new float[5], new float[2], List.of("a", "b")))
                .hasMessageContaining("not a multiple of 2 labels");
        assertThatThrownBy(
                        () -> new ClassificationHead(new float[4], new float[2], List.of("a", "a")))
                .hasMessageContaining("distinct");
        assertThatThrownBy(
                        () ->
                                new ClassificationHead(
                                        new float[] {0, Float.NaN},
                                        new float[2],
                                        List.of("a", "b")))
                .hasMessage("weights[1] is NaN");
    }
}
