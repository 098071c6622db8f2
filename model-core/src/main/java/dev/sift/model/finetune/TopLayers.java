package dev.sift.model.finetune;

import dev.sift.model.bundle.Activation;
import dev.sift.model.bundle.Pooling;
import java.util.List;
import java.util.function.Function;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.index.Indices;
import org.tensorflow.op.Ops;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;
import org.tensorflow.types.family.TType;

/**
 * Builds the forward graph of a fine-tuned top: BERT's transformer layers as Google's {@code
 * modeling.py} defines them (masked multi-head self-attention, a GELU feed-forward,
 * tanh-approximated as Google's BERT has it or exact as Hugging Face's models have it,
 * post-residual layer norms with epsilon 1e-12), the pooling, and the classification head.
 *
 * <p>Training and serving build the very same graph, so they compute the same function; only the
 * source of the weights differs (variables while training, constants or variables of a bundle when
 * serving). Dropout is built only when a {@link Dropout} is given, and then it is a no-op at rate
 * 0.
 *
 * <pre>{@code
 * TopLayers.Outputs<TFloat32> out =
 *         TopLayers.build(tf, TFloat32.class, spec, name -> weight.get(name), hidden, mask, null);
 * }</pre>
 */
public final class TopLayers<T extends TFloating> {

    /**
     * Dropout as training uses it: each site draws a stateless uniform mask from {@code seed}
     * (int64 {@code [2]}), so a step is repeatable from its seed.
     *
     * @param rate probability of dropping a unit, a scalar; 0 turns dropout off
     * @param seed the step's seed pair
     */
    public record Dropout<T extends TType>(Operand<T> rate, Operand<TInt64> seed) {}

    /**
     * The graph's results.
     *
     * @param sequence the top layer's vectors {@code [B, S, H]}; unless the pooling is {@link
     *     Pooling#MEAN}, {@code pooled} and {@code logits} do not depend on it, and fetching it
     *     runs the last layer a second time, on every position
     * @param pooled one vector per sequence {@code [B, H]}, as {@link TopSpec#pooling()} says
     * @param logits the head's logits {@code [B, labels]}
     */
    public record Outputs<T extends TType>(
            Operand<T> sequence, Operand<T> pooled, Operand<T> logits) {}

    private final Ops tf;
    private final Class<T> type;
    private final TopSpec spec;
    private final Function<String, Operand<T>> weights;
    private final Dropout<T> dropout;
    private int dropoutSites;

    private TopLayers(
            Ops tf,
            Class<T> type,
            TopSpec spec,
            Function<String, Operand<T>> weights,
            Dropout<T> dropout) {
        this.tf = tf;
        this.type = type;
        this.spec = spec;
        this.weights = weights;
        this.dropout = dropout;
    }

    /**
     * Adds the top to {@code tf}'s graph.
     *
     * @param weights the operand holding each of {@link TopSpec#parameters()}, by name
     * @param hidden the trunk's output, {@code [B, S, H]}
     * @param mask 1 for real tokens and 0 for padding, {@code [B, S]}, of type {@code type}
     * @param dropout dropout sites to add, or {@code null} for none (inference)
     */
    public static <T extends TFloating> Outputs<T> build(
            Ops tf,
            Class<T> type,
            TopSpec spec,
            Function<String, Operand<T>> weights,
            Operand<T> hidden,
            Operand<T> mask,
            Dropout<T> dropout) {
        return new TopLayers<>(tf, type, spec, weights, dropout).build(hidden, mask);
    }

    private Outputs<T> build(Operand<T> hidden, Operand<T> mask) {
        int h = spec.shape().hiddenSize();
        Operand<TInt32> inputShape = tf.shape(hidden);
        Operand<TInt32> batch =
                tf.slice(inputShape, tf.constant(new int[] {0}), tf.constant(new int[] {1}));
        // (1 - mask) * -10000 on every key position, broadcast over heads and queries: BERT's
        // adder.
        Operand<T> adder =
                tf.math.mul(tf.math.sub(constant(1), mask), constant(-10000.0)); // [B, S]
        adder = tf.expandDims(tf.expandDims(adder, tf.constant(1)), tf.constant(1)); // [B,1,1,S]

        Operand<T> x = tf.reshape(hidden, tf.constant(new int[] {-1, h})); // [B*S, H]
        int last = spec.firstLayer() + spec.layers() - 1;
        for (int layer = spec.firstLayer(); layer < last; layer++) {
            x = layer(layer, x, x, adder, batch);
        }
        Operand<T> sequence = tf.reshape(layer(last, x, x, adder, batch), inputShape);
        Operand<T> pooled;
        if (spec.pooling() == Pooling.MEAN) {
            pooled = mean(sequence, mask);
        } else {
            // [CLS] and the pooler read the last layer's first position only, and a position's
            // output depends on the others only through their keys and values. So the last layer
            // runs its query, attention output and feed-forward on the [CLS] rows alone; only its
            // key and value projections still see every position, about a sixth of a full
            // layer's work. The full layer above is built for `sequence` and runs only where that
            // is fetched.
            Operand<T> firstRows = first(tf.reshape(x, inputShape)); // [B, H]
            Operand<T> cls = layer(last, x, firstRows, adder, batch);
            pooled =
                    spec.pooling() == Pooling.CLS
                            ? cls
                            : tf.math.tanh(dense(cls, "pooler/dense/kernel", "pooler/dense/bias"));
        }
        // No dropout on the head's input, unlike BERT's recipe, whose head starts at random and
        // trains with it. Ours starts as the head fitted on standardized frozen vectors, folded
        // into raw-vector weights: large where a dimension varies little around a large mean (the
        // pooler's tanh outputs). Dropping such units shifted a SpamAssassin head's logit margin
        // by 16 (sd; the median margin is 5.6) and flipped 36% of its answers, so the first
        // epoch trained on noise (loss 0.94) and never beat the head on validation.
        Operand<T> logits = dense(pooled, TopSpec.HEAD_KERNEL, TopSpec.HEAD_BIAS);
        return new Outputs<>(sequence, pooled, logits);
    }

    /**
     * One transformer layer: every row of {@code keys} ({@code [B*S, H]}, the layer below's output)
     * is attended to; the layer's output is computed for the rows of {@code queries} ({@code [B*Q,
     * H]}: all of {@code keys}, or a subset of positions).
     */
    private Operand<T> layer(
            int layer,
            Operand<T> keys,
            Operand<T> queries,
            Operand<T> adder,
            Operand<TInt32> batch) {
        int heads = spec.shape().heads();
        int size = spec.shape().headSize();
        String self = "attention/self/";
        Operand<T> q = splitHeads(dense(queries, layer, self + "query"), batch);
        Operand<T> k = splitHeads(dense(keys, layer, self + "key"), batch);
        Operand<T> v = splitHeads(dense(keys, layer, self + "value"), batch);

        Operand<T> scores =
                tf.math.mul(
                        tf.train.batchMatMul(q, k, type, BatchMatMul.adjY(true)),
                        constant(1.0 / Math.sqrt(size)));
        Operand<T> probabilities = dropout(tf.nn.softmax(tf.math.add(scores, adder)));
        Operand<T> context = tf.train.batchMatMul(probabilities, v, type); // [B, N, Q, D]
        context =
                tf.reshape(
                        tf.linalg.transpose(context, tf.constant(new int[] {0, 2, 1, 3})),
                        tf.constant(new int[] {-1, heads * size}));

        Operand<T> attention = dropout(dense(context, layer, "attention/output/dense"));
        attention = layerNorm(tf.math.add(attention, queries), layer, "attention/output/LayerNorm");

        Operand<T> intermediate = gelu(dense(attention, layer, "intermediate/dense"));
        Operand<T> output = dropout(dense(intermediate, layer, "output/dense"));
        return layerNorm(tf.math.add(output, attention), layer, "output/LayerNorm");
    }

    /** {@code [B*L, H]} to {@code [B, N, L, D]}, where {@code batch} is {@code [B]}. */
    private Operand<T> splitHeads(Operand<T> x, Operand<TInt32> batch) {
        Operand<TInt32> shape =
                tf.concat(
                        List.of(
                                batch,
                                tf.constant(
                                        new int[] {
                                            -1, spec.shape().heads(), spec.shape().headSize()
                                        })),
                        tf.constant(0));
        return tf.linalg.transpose(tf.reshape(x, shape), tf.constant(new int[] {0, 2, 1, 3}));
    }

    private Operand<T> mean(Operand<T> sequence, Operand<T> mask) {
        Operand<T> m = tf.expandDims(mask, tf.constant(-1)); // [B, S, 1]
        return tf.math.div(
                tf.sum(tf.math.mul(sequence, m), tf.constant(1)), tf.sum(m, tf.constant(1)));
    }

    private Operand<T> first(Operand<T> sequence) {
        return tf.stridedSlice(sequence, Indices.all(), Indices.at(0), Indices.all());
    }

    private Operand<T> dense(Operand<T> x, int layer, String name) {
        return dense(
                x,
                TopSpec.layerParameter(layer, name + "/kernel"),
                TopSpec.layerParameter(layer, name + "/bias"));
    }

    private Operand<T> dense(Operand<T> x, String kernel, String bias) {
        return tf.nn.biasAdd(tf.linalg.matMul(x, weight(kernel)), weight(bias));
    }

    /**
     * BERT's layer norm in the form its graph computes it ({@code x * m + (beta - mean * m)} with
     * {@code m = gamma / sqrt(var + eps)}), so rebuilt layers round like the original.
     */
    private Operand<T> layerNorm(Operand<T> x, int layer, String name) {
        Operand<T> gamma = weight(TopSpec.layerParameter(layer, name + "/gamma"));
        Operand<T> beta = weight(TopSpec.layerParameter(layer, name + "/beta"));
        Operand<TInt32> last = tf.constant(new int[] {-1});
        Operand<T> mean = tf.math.mean(x, last, org.tensorflow.op.math.Mean.keepDims(true));
        Operand<T> variance =
                tf.math.mean(
                        tf.math.squaredDifference(x, mean),
                        last,
                        org.tensorflow.op.math.Mean.keepDims(true));
        Operand<T> scale =
                tf.math.mul(
                        tf.math.rsqrt(tf.math.add(variance, constant(TopSpec.LAYER_NORM_EPSILON))),
                        gamma);
        return tf.math.add(tf.math.mul(x, scale), tf.math.sub(beta, tf.math.mul(mean, scale)));
    }

    /** The spec's GELU (see {@link Activation}). */
    private Operand<T> gelu(Operand<T> x) {
        if (spec.activation() == Activation.GELU_ERF) {
            Operand<T> erf = tf.math.erf(tf.math.mul(x, constant(1 / Math.sqrt(2))));
            return tf.math.mul(tf.math.mul(constant(0.5), x), tf.math.add(constant(1), erf));
        }
        Operand<T> cube = tf.math.mul(tf.math.mul(x, x), x);
        Operand<T> inner =
                tf.math.mul(
                        constant(Math.sqrt(2 / Math.PI)),
                        tf.math.add(x, tf.math.mul(constant(0.044715), cube)));
        return tf.math.mul(
                tf.math.mul(constant(0.5), x), tf.math.add(constant(1), tf.math.tanh(inner)));
    }

    /**
     * Inverted dropout: keeps a unit with probability {@code 1 - rate} and scales it by {@code 1 /
     * (1 - rate)}; the identity at rate 0 and when no dropout was asked for.
     */
    private Operand<T> dropout(Operand<T> x) {
        if (dropout == null) {
            return x;
        }
        int site = dropoutSites++;
        // Each site gets its own stream: the step's seed pair shifted by the site's number.
        Operand<TInt64> seed =
                tf.math.add(dropout.seed(), tf.constant(new long[] {site * 1_000_003L, 0}));
        Operand<T> uniform = tf.random.statelessRandomUniform(tf.shape(x), seed, type);
        Operand<T> keep = tf.math.sub(constant(1), dropout.rate());
        // floor(keep + u) is 1 with probability keep, 0 otherwise.
        Operand<T> kept = tf.math.floor(tf.math.add(keep, uniform));
        return tf.math.mul(x, tf.math.div(kept, keep));
    }

    private Operand<T> weight(String name) {
        Operand<T> weight = weights.apply(name);
        if (weight == null) {
            throw new IllegalArgumentException("No operand for parameter " + name);
        }
        return weight;
    }

    private Operand<T> constant(double value) {
        return tf.dtypes.cast(tf.constant(value), type);
    }
}
