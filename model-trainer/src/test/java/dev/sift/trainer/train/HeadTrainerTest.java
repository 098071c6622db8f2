package dev.sift.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sift.model.head.ClassificationHead;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HeadTrainerTest {

    private static final List<String> LABELS = List.of("a", "b", "c");

    @Test
    void learnsSeparableClassesOnRawVectorsWithBadlyScaledDimensions() {
        Data train = data(600, 1);
        Data validation = data(150, 2);

        HeadTrainer.Result result =
                HeadTrainer.train(
                        train.x, train.y, validation.x, validation.y, LABELS, options(11));

        assertThat(accuracy(result.head(), validation)).isGreaterThan(0.95);
        assertThat(result.history().get(result.history().size() - 1).trainLoss())
                .isLessThan(result.history().get(0).trainLoss());
    }

    @Test
    void isDeterministicForASeed() {
        Data train = data(200, 1);
        Data validation = data(50, 2);

        ClassificationHead first =
                HeadTrainer.train(train.x, train.y, validation.x, validation.y, LABELS, options(5))
                        .head();
        ClassificationHead second =
                HeadTrainer.train(train.x, train.y, validation.x, validation.y, LABELS, options(5))
                        .head();
        ClassificationHead other =
                HeadTrainer.train(train.x, train.y, validation.x, validation.y, LABELS, options(6))
                        .head();

        assertThat(first.weights()).containsExactly(second.weights());
        assertThat(first.bias()).containsExactly(second.bias());
        assertThat(first.weights()).isNotEqualTo(other.weights());
    }

    @Test
    void stopsEarlyWhenValidationLossStopsImproving() {
        Data train = data(200, 1);
        Data validation = data(50, 2);
        TrainingOptions options = new TrainingOptions(500, 32, 0.05, 0, false, 3, 1);

        HeadTrainer.Result result =
                HeadTrainer.train(train.x, train.y, validation.x, validation.y, LABELS, options);

        assertThat(result.history().size()).isLessThan(500);
        assertThat(result.history().size() - result.bestEpoch()).isEqualTo(3);
    }

    @Test
    void balancedClassWeightsGiveEveryClassTheSameTotal() {
        double[] weights = HeadTrainer.balancedWeights(new int[] {0, 0, 0, 1}, 2);

        assertThat(weights[0] * 3).isCloseTo(weights[1] * 1, within(1e-12));
    }

    @Test
    void aHeadOnRawVectorsKeepsItsWeightsSmallWhereADimensionBarelyVaries() {
        Data train = nearlyConstantSignal(400, 1);
        Data validation = nearlyConstantSignal(100, 2);
        List<String> labels = List.of("ham", "spam");
        TrainingOptions options = new TrainingOptions(200, 32, 0.01, 1e-3, false, 8, 3);

        ClassificationHead folded =
                HeadTrainer.train(train.x, train.y, validation.x, validation.y, labels, options)
                        .head();
        ClassificationHead raw =
                HeadTrainer.trainOnRawVectors(
                                train.x, train.y, validation.x, validation.y, labels, options)
                        .head();

        // Standardized, the nearly constant dimension is the better separator, and folding its
        // weight back divides by its deviation (0.0056); on raw vectors L2 makes the head read the
        // dimension that varies.
        assertThat(spamMargin(folded, 0)).isGreaterThan(100);
        assertThat(spamMargin(raw, 0)).isLessThan(spamMargin(folded, 0) / 20);
        assertThat(spamMargin(raw, 1)).isGreaterThan(0.5);
        assertThat(accuracy(raw, validation)).isGreaterThan(0.85);
    }

    /** How much dimension {@code i} moves the spam logit against ham's, per unit. */
    private static double spamMargin(ClassificationHead head, int i) {
        return Math.abs(head.weights()[i * 2 + 1] - head.weights()[i * 2]);
    }

    /**
     * Two classes. Dimension 0 sits near 0.5 and moves 0.01 with the class, four deviations of its
     * noise (as a pooler's tanh output can); dimension 1 moves 3 with the class, three deviations.
     */
    private static Data nearlyConstantSignal(int n, long seed) {
        Random random = new Random(seed);
        float[][] x = new float[n][2];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 2;
            x[i][0] = (float) (0.5 + 0.01 * y[i] + 0.0025 * random.nextGaussian());
            x[i][1] = (float) (3 * y[i] + random.nextGaussian());
        }
        return new Data(x, y);
    }

    private static TrainingOptions options(long seed) {
        return new TrainingOptions(100, 32, 0.01, 1e-4, false, 5, seed);
    }

    private static double accuracy(ClassificationHead head, Data data) {
        int correct = 0;
        for (int n = 0; n < data.y.length; n++) {
            correct +=
                    ClassificationHead.argMax(head.probabilities(data.x[n])) == data.y[n] ? 1 : 0;
        }
        return (double) correct / data.y.length;
    }

    private record Data(float[][] x, int[] y) {}

    /**
     * Three Gaussian blobs; dimension 0 is scaled by 1000 and offset, as BERT dimensions can be.
     */
    private static Data data(int n, long seed) {
        Random random = new Random(seed);
        float[][] x = new float[n][4];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            x[i][0] = (float) (1000 * (y[i] + random.nextGaussian() * 0.2) + 5000);
            x[i][1] = (float) (y[i] == 1 ? 1 : 0) + (float) random.nextGaussian() * 0.2f;
            x[i][2] = (float) random.nextGaussian();
            x[i][3] = 3f; // constant: carries nothing and must not break standardization
        }
        return new Data(x, y);
    }
}
