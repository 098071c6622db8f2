package dev.sift.model.finetune;

/**
 * A fine-tuned top ready to serve: it maps trunk outputs to pooled vectors and the head's
 * probabilities. A float32 top runs on TensorFlow ({@link TopModel}), the graph it was trained as;
 * on the small ONNX encoders a top can also run on ONNX Runtime ({@link OnnxTop}), which is how an
 * int8 top is served. Both compute the function the trainer trained.
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
