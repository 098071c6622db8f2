package dev.sift.model.bundle;

/**
 * Names of a BERT SavedModel's serving-signature inputs and outputs. Inputs are int32 {@code (B,
 * T)}; {@code pooledOutput} is {@code (B, d)} and {@code sequenceOutput} is {@code (B, T, d)}.
 */
public record TensorNames(
        String inputIds,
        String inputMask,
        String segmentIds,
        String pooledOutput,
        String sequenceOutput) {

    /** The names in the serving signature of Google's BERT (TF Hub v1) and of our test encoder. */
    public static TensorNames bertDefaults() {
        return new TensorNames(
                "input_ids", "input_mask", "segment_ids", "pooled_output", "sequence_output");
    }
}
