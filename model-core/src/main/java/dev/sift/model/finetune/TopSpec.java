package dev.sift.model.finetune;

import dev.sift.model.bundle.Activation;
import dev.sift.model.bundle.LayerShape;
import dev.sift.model.bundle.Pooling;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a fine-tuned top is: the encoder's layer shape, which of its layers the top replaces, how
 * the top's last layer is pooled, and how many labels the head has.
 *
 * <p>The top holds layers {@code firstLayer .. firstLayer + layers - 1} of the encoder (0-based, as
 * BERT names them {@code layer_0 .. layer_11}), plus the pooler when {@code pooling} is {@link
 * Pooling#POOLER}, plus the head. Its input is the output of layer {@code firstLayer - 1}: the
 * trunk, which every model on the same encoder can share.
 *
 * @param shape the encoder's layer sizes
 * @param firstLayer index of the lowest layer the top owns; the trunk ends just below it
 * @param layers how many layers the top owns, at least 1
 * @param pooling how the last layer becomes one vector for the head
 * @param labels the head's number of classes, at least 2
 * @param activation the feed-forward activation of the encoder's layers
 */
public record TopSpec(
        LayerShape shape,
        int firstLayer,
        int layers,
        Pooling pooling,
        int labels,
        Activation activation) {

    /** BERT's layer norm epsilon. */
    static final double LAYER_NORM_EPSILON = 1e-12;

    /** The head's parameters, named like the encoder's. */
    public static final String HEAD_KERNEL = "head/kernel";

    public static final String HEAD_BIAS = "head/bias";

    public TopSpec {
        if (activation == null) {
            throw new IllegalArgumentException("Name the layers' activation");
        }
        if (firstLayer < 1) {
            throw new IllegalArgumentException(
                    "The top must leave at least one layer to the trunk; firstLayer " + firstLayer);
        }
        if (layers < 1) {
            throw new IllegalArgumentException("The top needs at least one layer, not " + layers);
        }
        if (labels < 2) {
            throw new IllegalArgumentException("A head needs at least 2 labels, not " + labels);
        }
    }

    /** A top of BERT-base's kind of layers ({@link Activation#GELU_TANH}). */
    public TopSpec(LayerShape shape, int firstLayer, int layers, Pooling pooling, int labels) {
        this(shape, firstLayer, layers, pooling, labels, Activation.GELU_TANH);
    }

    /**
     * The top {@code layers} of an encoder of {@code encoderLayers} layers shaped {@code shape},
     * with BERT-base's activation.
     */
    public static TopSpec top(
            LayerShape shape, int encoderLayers, int layers, Pooling pooling, int labels) {
        return top(shape, encoderLayers, layers, pooling, labels, Activation.GELU_TANH);
    }

    /**
     * The top {@code layers} of an encoder of {@code encoderLayers} layers shaped {@code shape}
     * whose layers use {@code activation}.
     */
    public static TopSpec top(
            LayerShape shape,
            int encoderLayers,
            int layers,
            Pooling pooling,
            int labels,
            Activation activation) {
        if (layers >= encoderLayers) {
            throw new IllegalArgumentException(
                    "An encoder of "
                            + encoderLayers
                            + " layers can fine-tune at most its top "
                            + (encoderLayers - 1)
                            + ", not "
                            + layers);
        }
        return new TopSpec(shape, encoderLayers - layers, layers, pooling, labels, activation);
    }

    /** The name of a parameter of layer {@code layer}, e.g. {@code encoder/layer_11/...}. */
    public static String layerParameter(int layer, String suffix) {
        return "encoder/layer_" + layer + "/" + suffix;
    }

    /**
     * Every parameter of the top with its shape, in a fixed order: each layer's attention, its
     * feed-forward and layer norms, then the pooler if used, then the head. Names are those of the
     * encoder below {@code bert/}.
     */
    public Map<String, long[]> parameters() {
        long h = shape.hiddenSize();
        long f = shape.intermediateSize();
        Map<String, long[]> parameters = new LinkedHashMap<>();
        for (int layer = firstLayer; layer < firstLayer + layers; layer++) {
            for (String projection : List.of("query", "key", "value")) {
                parameters.put(
                        layerParameter(layer, "attention/self/" + projection + "/kernel"),
                        new long[] {h, h});
                parameters.put(
                        layerParameter(layer, "attention/self/" + projection + "/bias"),
                        new long[] {h});
            }
            parameters.put(
                    layerParameter(layer, "attention/output/dense/kernel"), new long[] {h, h});
            parameters.put(layerParameter(layer, "attention/output/dense/bias"), new long[] {h});
            parameters.put(
                    layerParameter(layer, "attention/output/LayerNorm/gamma"), new long[] {h});
            parameters.put(
                    layerParameter(layer, "attention/output/LayerNorm/beta"), new long[] {h});
            parameters.put(layerParameter(layer, "intermediate/dense/kernel"), new long[] {h, f});
            parameters.put(layerParameter(layer, "intermediate/dense/bias"), new long[] {f});
            parameters.put(layerParameter(layer, "output/dense/kernel"), new long[] {f, h});
            parameters.put(layerParameter(layer, "output/dense/bias"), new long[] {h});
            parameters.put(layerParameter(layer, "output/LayerNorm/gamma"), new long[] {h});
            parameters.put(layerParameter(layer, "output/LayerNorm/beta"), new long[] {h});
        }
        if (pooling == Pooling.POOLER) {
            parameters.put("pooler/dense/kernel", new long[] {h, h});
            parameters.put("pooler/dense/bias", new long[] {h});
        }
        parameters.put(HEAD_KERNEL, new long[] {h, labels});
        parameters.put(HEAD_BIAS, new long[] {labels});
        return Collections.unmodifiableMap(parameters);
    }

    /** Names of the encoder's parameters the top starts from: all but the head's. */
    public List<String> encoderParameters() {
        return parameters().keySet().stream()
                .filter(name -> !name.equals(HEAD_KERNEL) && !name.equals(HEAD_BIAS))
                .toList();
    }
}
