package dev.sift.model.encode;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.finetune.TopBatch;
import dev.sift.model.finetune.TopModel;
import dev.sift.model.finetune.TopSpec;
import dev.sift.model.finetune.TopWeights;
import java.util.EnumSet;
import org.tensorflow.SavedModelBundle;

/**
 * The parity the job relies on: an encoder's trunk of {@code N} layers, fed through its top {@code
 * L - N} layers rebuilt from the SavedModel's own weights ({@link TopModel}), gives the encoder's
 * own {@code h_CLS} and pooled vectors.
 */
final class TrunkParity {

    /** Largest differences between the rebuilt top's outputs and the encoder's. */
    record Differences(float cls, float pooled) {
        float worst() {
            return Math.max(cls, pooled);
        }
    }

    private TrunkParity() {}

    static Differences measure(
            Encoder encoder, EncoderBundle bundle, PaddedBatch batch, int trunk) {
        EncodedBatch encoded =
                encoder.encode(batch, EnumSet.of(Pooling.CLS, Pooling.POOLER), trunk);
        int d = encoder.manifest().hiddenSize();
        int topLayers = encoder.manifest().transformerLayers() - trunk;
        TopSpec spec =
                TopSpec.top(
                        encoder.manifest().layerShape(),
                        encoder.manifest().transformerLayers(),
                        topLayers,
                        Pooling.POOLER,
                        2);
        int[] lengths = new int[batch.size()];
        for (int b = 0; b < lengths.length; b++) {
            lengths[b] = batch.length(b);
        }
        // The weights are read from a second, test-only load of the SavedModel.
        try (SavedModelBundle saved =
                        SavedModelBundle.load(bundle.savedModelDir().toString(), "serve");
                TopModel top =
                        TopModel.of(
                                TopWeights.fromSavedModel(
                                        saved.session(), spec, new float[d * 2], new float[2]))) {
            TopBatch trunkBatch =
                    new TopBatch(batch.size(), batch.length(), encoded.trunk(), lengths, null);
            TopModel.Outputs out = top.run(trunkBatch);
            float[] sequence = top.sequence(trunkBatch);
            float cls = 0;
            float pooled = 0;
            for (int b = 0; b < batch.size(); b++) {
                float[] expectedCls = encoded.vector(b, Pooling.CLS);
                float[] expectedPooled = encoded.vector(b, Pooling.POOLER);
                int row = b * batch.length() * d;
                for (int i = 0; i < d; i++) {
                    cls = Math.max(cls, Math.abs(sequence[row + i] - expectedCls[i]));
                    pooled = Math.max(pooled, Math.abs(out.pooled()[b][i] - expectedPooled[i]));
                }
            }
            return new Differences(cls, pooled);
        }
    }
}
