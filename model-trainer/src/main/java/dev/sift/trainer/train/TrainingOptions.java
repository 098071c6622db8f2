package dev.sift.trainer.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Settings of head training. Defaults suit frozen BERT features: Adam at 1e-3 on standardized
 * inputs, mini-batches of 64, L2 1e-3, stop after 8 epochs without a better validation loss.
 */
public record TrainingOptions(
        int maxEpochs,
        int batchSize,
        double learningRate,
        double l2,
        boolean classWeights,
        int patience,
        long seed) {

    public static TrainingOptions defaults() {
        return new TrainingOptions(200, 64, 1e-3, 1e-3, false, 8, 42);
    }

    public TrainingOptions {
        if (maxEpochs < 1 || batchSize < 1 || learningRate <= 0 || l2 < 0 || patience < 1) {
            throw new IllegalArgumentException(
                    "Need maxEpochs, batchSize, patience >= 1, learningRate > 0 and l2 >= 0");
        }
    }

    public Map<String, String> asMap() {
        Map<String, String> map = new LinkedHashMap<>();
        map.put("optimizer", "adam");
        map.put("maxEpochs", Integer.toString(maxEpochs));
        map.put("batchSize", Integer.toString(batchSize));
        map.put("learningRate", Double.toString(learningRate));
        map.put("l2", Double.toString(l2));
        map.put("classWeights", Boolean.toString(classWeights));
        map.put("patience", Integer.toString(patience));
        map.put("seed", Long.toString(seed));
        return map;
    }
}
