package dev.sift.serving.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sift.model.bundle.ConfidenceProfile;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DriftWindowTest {

    /**
     * A confident spam model's top probabilities: nine answers in ten above 0.95, the rest spread
     * down to 0.5; {@code unsureShare} of them spread instead, as on mail unlike its training data.
     */
    private static float[][] answers(int count, double unsureShare, long seed) {
        Random random = new Random(seed);
        float[][] rows = new float[count][];
        for (int i = 0; i < count; i++) {
            double top =
                    random.nextDouble() < unsureShare
                            ? 0.5 + 0.45 * random.nextDouble()
                            : 0.95 + 0.05 * random.nextDouble();
            rows[i] = new float[] {(float) (1 - top), (float) top};
        }
        return rows;
    }

    private static DriftWindow window(ConfidenceProfile reference) {
        return new DriftWindow(1000, reference, 2, 0.7);
    }

    private static void stream(DriftWindow window, float[][] answers) {
        for (float[] row : answers) {
            window.add(ConfidenceProfile.top(row), row[1] >= row[0] ? 1 : 0);
        }
    }

    @Test
    void theStabilityIndexStaysLowOnTrafficLikeTheTestSetAndRisesOnShiftedTraffic() {
        ConfidenceProfile testSet = ConfidenceProfile.of(answers(1184, 0.1, 1));
        DriftWindow unshifted = window(testSet);
        stream(unshifted, answers(1000, 0.1, 2));
        DriftWindow shifted = window(testSet);
        stream(shifted, answers(1000, 0.4, 3));

        assertThat(unshifted.stabilityIndex()).isLessThan(0.1);
        assertThat(shifted.stabilityIndex()).isGreaterThan(0.25);
        assertThat(shifted.meanTopProbability()).isLessThan(unshifted.meanTopProbability());
        assertThat(shifted.lowConfidencePct()).isGreaterThan(unshifted.lowConfidencePct());
    }

    @Test
    void theWindowForgetsTrafficOlderThanItsCapacity() {
        ConfidenceProfile testSet = ConfidenceProfile.of(answers(1184, 0.1, 1));
        DriftWindow window = window(testSet);
        stream(window, answers(1000, 0.4, 3));
        assertThat(window.stabilityIndex()).isGreaterThan(0.25);

        stream(window, answers(1000, 0.1, 4));

        assertThat(window.size()).isEqualTo(1000);
        assertThat(window.stabilityIndex()).isLessThan(0.1);
    }

    @Test
    void inputFiguresCountOnlyTokenizedAnswersAndLabelsEveryAnswer() {
        DriftWindow window = new DriftWindow(4, null, 2, 0.7);
        window.add(0.99f, 1, 128, true, 4);
        window.add(0.60f, 0, 32, false, 0);
        window.add(0.98f, 1); // the n-gram stage answered: no tokens

        assertThat(window.meanTokens()).isCloseTo(80, within(1e-9));
        assertThat(window.atLengthLimitPct()).isCloseTo(50, within(1e-9));
        assertThat(window.unknownTokenPct()).isCloseTo(100.0 * 4 / 160, within(1e-9));
        assertThat(window.labelPct(1)).isCloseTo(100.0 * 2 / 3, within(1e-9));
        assertThat(window.lowConfidencePct()).isCloseTo(100.0 / 3, within(1e-9));
        assertThat(window.stabilityIndex()).isNaN(); // no reference to compare with

        window.add(0.90f, 0, 10, false, 0);
        window.add(0.90f, 0, 10, false, 0); // pushes out the 128-token answer
        assertThat(window.meanTokens()).isCloseTo(52.0 / 3, within(1e-9));
        assertThat(window.atLengthLimitPct()).isZero();
    }
}
