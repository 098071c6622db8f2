package dev.sift.model.finetune;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.bundle.TensorNames;
import dev.sift.model.encode.OnnxGraph;
import dev.sift.model.engine.OnnxRuntimeNatives;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A fine-tuned top served on ONNX Runtime: the encoder's own upper layers, sliced out of its
 * float32 graph ({@link OnnxGraph#between}) and holding the top's trained weights in place of the
 * encoder's, fed the trunk and the attention mask. The pooling and the head, a few hundred
 * multiply-adds per record, run here in Java.
 *
 * <p>This is the function the trainer trained ({@link TopLayers} builds the same layers on
 * TensorFlow, with the exact GELU these encoders use), computed by the engine that already runs the
 * trunk, and in a graph that can take the published int8 encoders' arithmetic ({@link
 * OnnxGraph#withInt8MatMuls}): that is what the job serves it for. In float32 the TensorFlow top is
 * faster for [CLS] pooling, which runs its last layer on the [CLS] position alone where this slice
 * runs it on every position.
 *
 * <pre>{@code
 * try (OnnxTop top = OnnxTop.build(OnnxGraph.read(encoder.graphFile()),
 *         encoder.manifest().tensors(), weights, cores)) {
 *     Top.Outputs out = top.run(batch);
 * }
 * }</pre>
 *
 * <p>Thread-safe: an ONNX Runtime session runs concurrent calls, and {@link #run} keeps nothing
 * between them.
 */
public final class OnnxTop implements Top {

    private final TopSpec spec;
    private final OrtEnvironment environment;
    private final OrtSession session;
    private final String trunkInput;
    private final String maskInput;
    private final float[] headKernel;
    private final float[] headBias;

    private OnnxTop(
            TopSpec spec,
            OrtEnvironment environment,
            OrtSession session,
            String trunkInput,
            String maskInput,
            float[] headKernel,
            float[] headBias) {
        this.spec = spec;
        this.environment = environment;
        this.session = session;
        this.trunkInput = trunkInput;
        this.maskInput = maskInput;
        this.headKernel = headKernel;
        this.headBias = headBias;
    }

    /**
     * Slices {@code graph} (a float32 Hugging Face export, the encoder the top was trained on) from
     * the trunk to its sequence output, puts {@code weights} in, and opens it with {@code
     * intraOpThreads} threads per pass.
     *
     * @throws IOException when the graph is not the kind the top was trained on (naming, 8-bit
     *     weights, activation), or its upper layers read an input other than the attention mask
     */
    public static OnnxTop build(
            OnnxGraph graph, TensorNames tensors, TopWeights weights, int intraOpThreads)
            throws IOException {
        return build(graph, tensors, weights, intraOpThreads, false);
    }

    /**
     * As {@link #build(OnnxGraph, TensorNames, TopWeights, int)}, with the top's matrix multiplies
     * in 8-bit integers when {@code int8} ({@link OnnxGraph#withInt8MatMuls}).
     */
    public static OnnxTop build(
            OnnxGraph graph,
            TensorNames tensors,
            TopWeights weights,
            int intraOpThreads,
            boolean int8)
            throws IOException {
        TopSpec spec = weights.spec();
        Map<String, float[]> replacements = new HashMap<>();
        TopWeights.onnxInitializers(graph, spec)
                .forEach(
                        (parameter, initializer) ->
                                replacements.put(initializer, weights.get(parameter)));
        String trunk = OnnxGraph.layerOutput(spec.firstLayer() - 1);
        byte[] sliced = graph.between(trunk, List.of(tensors.sequenceOutput()), replacements);
        if (int8) {
            sliced = OnnxGraph.parse(sliced).withInt8MatMuls(TopWeights.onnxMatMuls(spec));
        }
        OrtEnvironment environment = OnnxRuntimeNatives.environment();
        OrtSession session = null;
        try (OrtSession.SessionOptions options =
                OnnxRuntimeNatives.sessionOptions(intraOpThreads)) {
            session = environment.createSession(sliced, options);
            for (NodeInfo input : session.getInputInfo().values()) {
                boolean mask = input.getName().equals(tensors.inputMask());
                if (!mask && !input.getName().equals(trunk)) {
                    throw new IOException(
                            "Layers "
                                    + spec.firstLayer()
                                    + " and up of the ONNX graph read input "
                                    + input.getName()
                                    + "; a top is fed only the trunk and "
                                    + tensors.inputMask());
                }
                if (mask
                        && (!(input.getInfo() instanceof TensorInfo info)
                                || info.type != OnnxJavaType.INT64)) {
                    throw new IOException(
                            "The ONNX graph's "
                                    + input.getName()
                                    + " is "
                                    + input.getInfo()
                                    + ", not an int64 tensor");
                }
            }
            return new OnnxTop(
                    spec,
                    environment,
                    session,
                    trunk,
                    session.getInputNames().contains(tensors.inputMask())
                            ? tensors.inputMask()
                            : null,
                    weights.get(TopSpec.HEAD_KERNEL),
                    weights.get(TopSpec.HEAD_BIAS));
        } catch (OrtException | IOException | RuntimeException e) {
            if (session != null) {
                try {
                    session.close();
                } catch (OrtException closing) {
                    e.addSuppressed(closing);
                }
            }
            if (e instanceof IOException io) {
                throw io;
            }
            throw new IOException("Cannot open the top's ONNX graph: " + e.getMessage(), e);
        }
    }

    @Override
    public TopSpec spec() {
        return spec;
    }

    @Override
    public Outputs run(TopBatch batch) {
        int h = spec.shape().hiddenSize();
        if (batch.hiddenSize() != h) {
            throw new IllegalArgumentException(
                    "Batch vectors are " + batch.hiddenSize() + " wide; the top expects " + h);
        }
        int size = batch.size();
        int length = batch.length();
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put(
                    trunkInput,
                    OnnxTensor.createTensor(
                            environment,
                            FloatBuffer.wrap(batch.hidden()),
                            new long[] {size, length, h}));
            if (maskInput != null) {
                long[] mask = new long[size * length];
                for (int i = 0; i < size; i++) {
                    for (int t = 0; t < batch.lengths()[i]; t++) {
                        mask[i * length + t] = 1;
                    }
                }
                inputs.put(
                        maskInput,
                        OnnxTensor.createTensor(
                                environment, LongBuffer.wrap(mask), new long[] {size, length}));
            }
            float[] sequence;
            try (OrtSession.Result result = session.run(inputs)) {
                FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
                sequence = new float[out.remaining()];
                out.get(sequence);
            }
            if (sequence.length != size * length * h) {
                throw new IllegalStateException(
                        "The top's graph returned "
                                + sequence.length
                                + " values for a ["
                                + size
                                + ", "
                                + length
                                + ", "
                                + h
                                + "] batch");
            }
            float[][] pooled = new float[size][];
            float[][] probabilities = new float[size][];
            for (int i = 0; i < size; i++) {
                pooled[i] = pool(sequence, i, length, batch.lengths()[i], h);
                probabilities[i] = head(pooled[i]);
            }
            return new Outputs(pooled, probabilities);
        } catch (OrtException e) {
            throw new IllegalStateException("The top's forward pass failed: " + e.getMessage(), e);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    /** Sequence {@code i}'s vector: its [CLS] position, or the mean of its real positions. */
    private float[] pool(float[] sequence, int i, int length, int real, int h) {
        float[] pooled = new float[h];
        int start = i * length * h;
        if (spec.pooling() == Pooling.CLS) {
            System.arraycopy(sequence, start, pooled, 0, h);
            return pooled;
        }
        double[] sum = new double[h];
        for (int t = 0; t < real; t++) {
            for (int d = 0; d < h; d++) {
                sum[d] += sequence[start + t * h + d];
            }
        }
        for (int d = 0; d < h; d++) {
            pooled[d] = (float) (sum[d] / real);
        }
        return pooled;
    }

    /** {@code softmax(pooled · W + b)}, the kernel laid out {@code [hidden, labels]}. */
    private float[] head(float[] pooled) {
        int labels = spec.labels();
        double[] logits = new double[labels];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < labels; j++) {
            double logit = headBias[j];
            for (int d = 0; d < pooled.length; d++) {
                logit += pooled[d] * (double) headKernel[d * labels + j];
            }
            logits[j] = logit;
            max = Math.max(max, logit);
        }
        double total = 0;
        for (int j = 0; j < labels; j++) {
            logits[j] = Math.exp(logits[j] - max);
            total += logits[j];
        }
        float[] probabilities = new float[labels];
        for (int j = 0; j < labels; j++) {
            probabilities[j] = (float) (logits[j] / total);
        }
        return probabilities;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("Cannot close the top's ONNX session", e);
        }
    }
}
