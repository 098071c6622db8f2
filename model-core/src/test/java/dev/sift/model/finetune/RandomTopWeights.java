package dev.sift.model.finetune;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Untrained tops for tests of formats and plumbing: small Gaussian values, fixed by a seed. */
public final class RandomTopWeights {

    private RandomTopWeights() {}

    /** Weights for every parameter of {@code spec}, deterministic for {@code seed}. */
    public static TopWeights of(TopSpec spec, long seed) {
        Random random = new Random(seed);
        Map<String, float[]> values = new LinkedHashMap<>();
        spec.parameters()
                .forEach(
                        (name, shape) -> {
                            float[] value =
                                    new float
                                            [(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
                            for (int i = 0; i < value.length; i++) {
                                value[i] = (float) random.nextGaussian() * 0.05f;
                            }
                            values.put(name, value);
                        });
        return TopWeights.of(spec, values);
    }
}
