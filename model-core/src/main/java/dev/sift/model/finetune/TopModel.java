package dev.sift.model.finetune;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * A fine-tuned top for inference on TensorFlow, as every float32 top is served: the {@link
 * TopLayers} graph with its weights in variables set once when it is built, no dropout, in float32.
 * It maps trunk outputs to the pooled vectors and the head's probabilities, and on request to the
 * top layer's vector at every position.
 *
 * <p>Thread-safe: {@link #run} keeps nothing between calls (every call makes its own runner and
 * tensors) and a TensorFlow session runs concurrent calls, so threads may share one top; {@link
 * SharedTops} shares one per model version in a JVM.
 *
 * <pre>{@code
 * try (TopModel top = TopModel.of(weights)) {
 *     TopModel.Outputs out = top.run(batch);
 * }
 * }</pre>
 */
public final class TopModel implements Top {

    private final TopSpec spec;
    private final Graph graph;
    private final Session session;
    private final Placeholder<TFloat32> hidden;
    private final Placeholder<TFloat32> mask;
    private final TopLayers.Outputs<TFloat32> outputs;
    private final Operand<TFloat32> probabilities;

    private TopModel(TopWeights weights) {
        this.spec = weights.spec();
        this.graph = new Graph();
        Session created = null;
        try {
            Ops tf = Ops.create(graph);
            // Variables, set once by feeding the weights, rather than constants: a constant's
            // value would live in the graph's definition and again in its kernel, and Grappler
            // copies it while optimising; a variable holds the only copy.
            Map<String, Operand<TFloat32>> reads = new HashMap<>();
            Map<String, Placeholder<TFloat32>> values = new LinkedHashMap<>();
            List<Op> assignments = new ArrayList<>();
            for (Map.Entry<String, long[]> parameter : spec.parameters().entrySet()) {
                Shape shape = Shape.of(parameter.getValue());
                Variable<TFloat32> variable = tf.variable(shape, TFloat32.class);
                Placeholder<TFloat32> value =
                        tf.placeholder(TFloat32.class, Placeholder.shape(shape));
                values.put(parameter.getKey(), value);
                assignments.add(tf.assign(variable, value));
                reads.put(parameter.getKey(), tf.identity(variable));
            }
            hidden =
                    tf.placeholder(
                            TFloat32.class,
                            Placeholder.shape(Shape.of(-1, -1, spec.shape().hiddenSize())));
            mask = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
            outputs = TopLayers.build(tf, TFloat32.class, spec, reads::get, hidden, mask, null);
            probabilities = tf.nn.softmax(outputs.logits());
            created = new Session(graph);
            assign(created, weights, values, assignments);
        } catch (RuntimeException e) {
            if (created != null) {
                created.close();
            }
            graph.close();
            throw e;
        }
        this.session = created;
    }

    private static void assign(
            Session session,
            TopWeights weights,
            Map<String, Placeholder<TFloat32>> values,
            List<Op> assignments) {
        List<Tensor> fed = new ArrayList<>();
        try {
            Session.Runner runner = session.runner();
            for (Map.Entry<String, long[]> parameter : weights.spec().parameters().entrySet()) {
                Tensor value =
                        FloatTensors.of(
                                TFloat32.class,
                                Shape.of(parameter.getValue()),
                                weights.get(parameter.getKey()));
                fed.add(value);
                runner.feed(values.get(parameter.getKey()), value);
            }
            assignments.forEach(runner::addTarget);
            runner.run().close();
        } finally {
            fed.forEach(Tensor::close);
        }
    }

    /** Builds the top from {@code weights}; close it to free its native memory. */
    public static TopModel of(TopWeights weights) {
        return new TopModel(weights);
    }

    @Override
    public TopSpec spec() {
        return spec;
    }

    @Override
    public Outputs run(TopBatch batch) {
        try (Result result = fetch(batch, outputs.pooled(), probabilities)) {
            return new Outputs(
                    rows(FloatTensors.toFloats(result.get(0)), batch.size()),
                    rows(FloatTensors.toFloats(result.get(1)), batch.size()));
        }
    }

    /**
     * The top layer's vectors for every position of {@code batch}, {@code [size * length * hidden]}
     * row-major: what the encoder's own top layer outputs. Serving needs none of them; this runs
     * the last layer on every position, which {@link #run} does only for mean pooling.
     */
    public float[] sequence(TopBatch batch) {
        try (Result result = fetch(batch, outputs.sequence())) {
            return FloatTensors.toFloats(result.get(0));
        }
    }

    private Result fetch(TopBatch batch, Operand<?>... fetches) {
        int h = spec.shape().hiddenSize();
        if (batch.hiddenSize() != h) {
            throw new IllegalArgumentException(
                    "Batch vectors are " + batch.hiddenSize() + " wide; the top expects " + h);
        }
        try (Tensor in =
                        FloatTensors.of(
                                TFloat32.class,
                                Shape.of(batch.size(), batch.length(), h),
                                batch.hidden());
                Tensor m =
                        FloatTensors.of(
                                TFloat32.class,
                                Shape.of(batch.size(), batch.length()),
                                batch.mask())) {
            Session.Runner runner = session.runner().feed(hidden, in).feed(mask, m);
            for (Operand<?> fetch : fetches) {
                runner.fetch(fetch);
            }
            return runner.run();
        }
    }

    @Override
    public void close() {
        try {
            if (session != null) {
                session.close();
            }
        } finally {
            graph.close();
        }
    }

    private static float[][] rows(float[] flat, int count) {
        int width = flat.length / count;
        float[][] rows = new float[count][width];
        for (int i = 0; i < count; i++) {
            System.arraycopy(flat, i * width, rows[i], 0, width);
        }
        return rows;
    }
}
