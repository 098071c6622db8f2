package dev.sift.trainer.train;

import dev.sift.trainer.finetune.FineTuneSettings;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a run fine-tunes: how many of the encoder's top layers it trains with the head, for how many
 * epochs at most, in batches of what size, and how patient early stopping is; the optimiser's
 * settings are model-core's {@link FineTuneSettings}.
 *
 * @param topLayers K, the encoder layers trained with the head (0: the head alone, no fine-tuning)
 * @param maxEpochs epochs at most; the learning-rate schedule spans them
 * @param batchSize texts per step
 * @param patience epochs without a lower validation loss before stopping
 * @param settings learning rate, warm-up, dropout, clipping and seed
 */
public record FineTuneOptions(
        int topLayers, int maxEpochs, int batchSize, int patience, FineTuneSettings settings) {

    public FineTuneOptions {
        if (topLayers < 0 || maxEpochs < 1 || batchSize < 1 || patience < 1) {
            throw new IllegalArgumentException(
                    "Need topLayers >= 0 and maxEpochs, batchSize, patience >= 1; got "
                            + topLayers
                            + ", "
                            + maxEpochs
                            + ", "
                            + batchSize
                            + ", "
                            + patience);
        }
    }

    /** Whether the run trains encoder layers at all. */
    public boolean enabled() {
        return topLayers > 0;
    }

    /** The settings, as recorded in {@code run.json} and the model's manifest. */
    public Map<String, String> asMap() {
        Map<String, String> map = new LinkedHashMap<>();
        map.put("fineTuneLayers", Integer.toString(topLayers));
        map.put("fineTuneMaxEpochs", Integer.toString(maxEpochs));
        map.put("fineTuneBatchSize", Integer.toString(batchSize));
        map.put("fineTunePatience", Integer.toString(patience));
        map.put("fineTuneLearningRate", Double.toString(settings.learningRate()));
        map.put("fineTuneWarmup", Double.toString(settings.warmupFraction()));
        map.put("fineTuneDropout", Double.toString(settings.dropout()));
        map.put("fineTuneClipNorm", Double.toString(settings.clipNorm()));
        map.put("fineTuneSeed", Long.toString(settings.seed()));
        return map;
    }
}
