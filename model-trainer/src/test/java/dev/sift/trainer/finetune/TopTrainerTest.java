package dev.sift.trainer.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sift.model.bundle.LayerShape;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.finetune.TopBatch;
import dev.sift.model.finetune.TopSpec;
import dev.sift.model.finetune.TopWeights;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tensorflow.types.TFloat64;

/**
 * The training graph on a small layer (hidden 8, 2 heads, feed-forward 16, 4 positions), in
 * float64: its gradients agree with central finite differences, and its steps learn.
 */
class TopTrainerTest {

    /** Weights and inputs are multiples of 2^-20 and steps are 2^-10, so w ± h is exact. */
    private static final double GRID = 0x1p-20;

    private static final double H = 0x1p-10;

    /**
     * Central differences with h = 2^-10 err by O(h^2 f'''); float64 rounding adds ~1e-13 / h.
     * Measured here: at most 3.0e-6 absolute (1.5e-5 relative, a key kernel with the pooler), 5e-7
     * with CLS or mean pooling. A gradient of the wrong loss (no dropout) errs by 0.2-0.5.
     */
    private static final double ABSOLUTE_TOLERANCE = 1e-6;

    private static final double RELATIVE_TOLERANCE = 1e-4;

    private static final LayerShape SMALL = new LayerShape(8, 2, 16);

    @BeforeAll
    static void natives() {
        TensorFlowEncoder.defaultDevice(); // loads TensorFlow's natives before the graph API
    }

    @ParameterizedTest
    @EnumSource(Pooling.class)
    void gradientsMatchCentralFiniteDifferences(Pooling pooling) {
        TopSpec spec = new TopSpec(SMALL, 1, 2, pooling, 3);
        TopWeights weights = randomWeights(spec, new Random(11));
        TopBatch batch = randomBatch(spec, new Random(12));
        // Dropout on: the check covers the training graph as it trains, with one fixed draw.
        FineTuneSettings settings = FineTuneSettings.builder().dropout(0.2).seed(5).build();
        long step = 3;

        try (TopTrainer<TFloat64> trainer =
                TopTrainer.create(TFloat64.class, weights, settings, 10)) {
            Map<String, double[]> analytic = trainer.gradients(batch, step);
            Random pick = new Random(13);
            double worstExcess = Double.NEGATIVE_INFINITY;
            String worst = "";
            int checked = 0;
            for (String name : spec.parameters().keySet()) {
                float[] base = weights.get(name);
                assertThat(analytic.get(name)).hasSize(base.length);
                for (int n = 0; n < Math.min(base.length, 12); n++) {
                    int i = base.length <= 12 ? n : pick.nextInt(base.length);
                    double up = lossWith(trainer, weights, name, i, +H, batch, step);
                    double down = lossWith(trainer, weights, name, i, -H, batch, step);
                    double numeric = (up - down) / (2 * H);
                    double error = Math.abs(analytic.get(name)[i] - numeric);
                    double allowed = ABSOLUTE_TOLERANCE + RELATIVE_TOLERANCE * Math.abs(numeric);
                    if (error - allowed > worstExcess) {
                        worstExcess = error - allowed;
                        worst =
                                String.format(
                                        "%s[%d]: analytic %.9g, numeric %.9g, error %.3g",
                                        name, i, analytic.get(name)[i], numeric, error);
                    }
                    checked++;
                }
            }
            assertThat(worstExcess).as("worst entry of %d: %s", checked, worst).isLessThan(0);
            // A gradient that is zero everywhere would pass a sloppy check: require real signal.
            double largest = 0;
            for (double g :
                    analytic.get(TopSpec.layerParameter(1, "attention/self/query/kernel"))) {
                largest = Math.max(largest, Math.abs(g));
            }
            assertThat(largest).isGreaterThan(1e-4);
        }
    }

    @Test
    void stepsLowerTheLossOnAFixedBatch() {
        TopSpec spec = new TopSpec(SMALL, 1, 1, Pooling.CLS, 3);
        TopWeights weights = randomWeights(spec, new Random(21));
        TopBatch batch = randomBatch(spec, new Random(22));
        FineTuneSettings settings =
                FineTuneSettings.builder().learningRate(1e-2).warmupFraction(0.1).build();

        try (TopTrainer<TFloat64> trainer =
                TopTrainer.create(TFloat64.class, weights, settings, 40)) {
            double before = trainer.loss(batch);
            for (int i = 0; i < 40; i++) {
                trainer.step(batch);
            }
            assertThat(trainer.steps()).isEqualTo(40);
            assertThat(trainer.loss(batch)).isLessThan(before / 4);
        }
    }

    @ParameterizedTest
    @EnumSource(Pooling.class)
    void dropoutLeavesTheVectorTheHeadReadsAlone(Pooling pooling) {
        TopSpec spec = new TopSpec(SMALL, 1, 1, pooling, 3);
        Map<String, float[]> values = new HashMap<>(randomWeights(spec, new Random(31)).values());
        // The last layer norm's gain 0 makes every position its bias, whatever dropout did inside
        // the layer: the pooled vector is fixed, and only dropout on it could move the loss. The
        // bias is far from 0 and the head's weights are large, as in a head fitted on standardized
        // vectors and folded, so a dropped unit would move the logits by tens.
        int h = SMALL.hiddenSize();
        values.put(TopSpec.layerParameter(1, "output/LayerNorm/gamma"), new float[h]);
        float[] beta = new float[h];
        Arrays.fill(beta, 0.9f);
        values.put(TopSpec.layerParameter(1, "output/LayerNorm/beta"), beta);
        float[] kernel = values.get(TopSpec.HEAD_KERNEL);
        for (int i = 0; i < kernel.length; i++) {
            kernel[i] *= 100;
        }
        TopWeights weights = TopWeights.of(spec, values);
        TopBatch batch = randomBatch(spec, new Random(32));
        FineTuneSettings settings = FineTuneSettings.builder().dropout(0.5).seed(7).build();

        try (TopTrainer<TFloat64> trainer =
                TopTrainer.create(TFloat64.class, weights, settings, 10)) {
            double evaluation = trainer.loss(batch);
            for (long step = 0; step < 5; step++) {
                assertThat(trainer.trainingLoss(batch, step))
                        .as("training loss at step %d", step)
                        .isCloseTo(evaluation, within(1e-9));
            }
        }
    }

    private static double lossWith(
            TopTrainer<TFloat64> trainer,
            TopWeights weights,
            String name,
            int index,
            double delta,
            TopBatch batch,
            long step) {
        Map<String, float[]> values = new HashMap<>(weights.values());
        float[] changed = values.get(name).clone();
        changed[index] = (float) (changed[index] + delta);
        values.put(name, changed);
        trainer.load(TopWeights.of(weights.spec(), values));
        return trainer.trainingLoss(batch, step);
    }

    /** BERT-like scales: kernels ~N(0, 0.3), biases small, layer-norm gains near 1. */
    static TopWeights randomWeights(TopSpec spec, Random random) {
        Map<String, float[]> values = new HashMap<>();
        for (Map.Entry<String, long[]> parameter : spec.parameters().entrySet()) {
            String name = parameter.getKey();
            long size = 1;
            for (long dim : parameter.getValue()) {
                size *= dim;
            }
            float[] value = new float[(int) size];
            for (int i = 0; i < value.length; i++) {
                double scale = name.endsWith("kernel") ? 0.3 : 0.1;
                double mean = name.endsWith("gamma") ? 1 : 0;
                value[i] = onGrid(mean + scale * random.nextGaussian());
            }
            values.put(name, value);
        }
        return TopWeights.of(spec, values);
    }

    /** Three sequences of 4 positions, two of them padded, with labels 0, 2, 1. */
    static TopBatch randomBatch(TopSpec spec, Random random) {
        int size = 3;
        int length = 4;
        float[] hidden = new float[size * length * spec.shape().hiddenSize()];
        for (int i = 0; i < hidden.length; i++) {
            hidden[i] = onGrid(random.nextGaussian());
        }
        return new TopBatch(size, length, hidden, new int[] {4, 2, 3}, new int[] {0, 2, 1});
    }

    private static float onGrid(double value) {
        return (float) (Math.rint(value / GRID) * GRID);
    }
}
