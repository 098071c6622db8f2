package dev.sift.model.finetune;

/**
 * A fine-tuned top ready to serve: it maps trunk outputs to pooled vectors and the head's
 * probabilities. BERT-base's tops run on TensorFlow ({@link TopModel}), the small ONNX encoders' on
 * ONNX Runtime ({@link OnnxTop}); both compute the function the trainer trained.
 *
 * <p>Implementations are thread-safe: {@link SharedTops} shares one per model version in a JVM.
 */
public interface Top extends AutoCloseable {

    /**
     * What the top computes for a batch.
     *
     * @param pooled the pooled vectors, {@code [size][hidden]}
     * @param probabilities the head's probabilities, {@code [size][labels]}
     */
    record Outputs(float[][] pooled, float[][] probabilities) {}

    TopSpec spec();

    /** Runs the top on {@code batch}; its labels, if any, are ignored. */
    Outputs run(TopBatch batch);

    /** Frees the top's native memory. */
    @Override
    void close();
}
