package dev.sift.model.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sift.model.bundle.LayerShape;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.TensorFlowEncoder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The inference top runs its last layer on the [CLS] rows only, for [CLS] and pooler pooling; this
 * holds that shortcut to the full layer's first position, on a small layer with padded sequences.
 */
class TopModelTest {

    private static final LayerShape SMALL = new LayerShape(16, 4, 32);

    @BeforeAll
    static void natives() {
        TensorFlowEncoder.defaultDevice(); // loads TensorFlow's natives before the graph API
    }

    @ParameterizedTest
    @EnumSource(
            value = Pooling.class,
            names = {"CLS", "POOLER"})
    void pooledVectorIsTheFullTopLayerAtTheFirstPosition(Pooling pooling) {
        TopSpec spec = new TopSpec(SMALL, 1, 2, pooling, 3);
        int size = 3;
        int length = 7;
        int h = SMALL.hiddenSize();
        Random random = new Random(31);
        float[] hidden = new float[size * length * h];
        for (int i = 0; i < hidden.length; i++) {
            hidden[i] = (float) random.nextGaussian();
        }
        // Random weights of 0.05 barely mix positions; 0.5 makes the attention matter.
        TopWeights weights = scaled(RandomTopWeights.of(spec, 32), 10);
        TopBatch batch = new TopBatch(size, length, hidden, new int[] {7, 4, 1}, null);

        try (TopModel top = TopModel.of(weights)) {
            float[][] pooled = top.run(batch).pooled();
            float[] sequence = top.sequence(batch);
            for (int b = 0; b < size; b++) {
                float[] first = new float[h];
                System.arraycopy(sequence, b * length * h, first, 0, h);
                float[] expected =
                        pooling == Pooling.CLS
                                ? first
                                : tanhDense(
                                        first,
                                        weights.get("pooler/dense/kernel"),
                                        weights.get("pooler/dense/bias"));
                for (int i = 0; i < h; i++) {
                    assertThat(pooled[b][i])
                            .as("sequence %d, unit %d", b, i)
                            .isCloseTo(expected[i], within(1e-5f));
                }
            }
        }
    }

    private static TopWeights scaled(TopWeights weights, float factor) {
        Map<String, float[]> values = new LinkedHashMap<>();
        for (String name : weights.spec().parameters().keySet()) {
            float[] value = weights.get(name).clone();
            for (int i = 0; i < value.length; i++) {
                // Layer norms near their usual start (gamma 1, beta 0); the rest scaled.
                if (name.endsWith("LayerNorm/gamma")) {
                    value[i] += 1;
                } else if (!name.endsWith("LayerNorm/beta")) {
                    value[i] *= factor;
                }
            }
            values.put(name, value);
        }
        return TopWeights.of(weights.spec(), values);
    }

    private static float[] tanhDense(float[] x, float[] kernel, float[] bias) {
        float[] out = new float[bias.length];
        for (int j = 0; j < out.length; j++) {
            double sum = bias[j];
            for (int i = 0; i < x.length; i++) {
                sum += x[i] * kernel[i * out.length + j];
            }
            out[j] = (float) Math.tanh(sum);
        }
        return out;
    }
}
