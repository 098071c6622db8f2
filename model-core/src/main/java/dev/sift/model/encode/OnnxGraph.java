package dev.sift.model.encode;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads an ONNX model at the protobuf wire level, without ONNX's generated classes: the graph's
 * nodes and float initializers, and copies of the model cut to other outputs, sliced from a middle
 * tensor with other weights, or with some matrix multiplies in 8-bit integers. Sift needs things
 * from an encoder's graph that ONNX Runtime does not give: the output of a middle layer (a trunk,
 * for fine-tuned tops), the float32 weights of its top layers (to start fine-tuning from), and
 * those layers holding the fine-tuned weights (to serve the top).
 *
 * <p>Both lean on how Hugging Face's PyTorch exports name a BERT encoder's graph: node {@code
 * /encoder/layer.3/attention/self/query/MatMul} multiplies by its kernel, initializer {@code
 * encoder.layer.3.attention.self.query.bias} is the bias, and tensor {@code
 * /encoder/layer.3/output/LayerNorm/Add_1_output_0} is layer 3's output. Graphs named otherwise are
 * refused with that said, never guessed at.
 *
 * <p>Field numbers are those of {@code onnx.proto}: ModelProto graph 7; GraphProto node 1,
 * initializer 5, input 11, output 12, value_info 13; NodeProto input 1, output 2, name 3, op_type
 * 4, attribute 5; AttributeProto name 1, i 3, type 20; ValueInfoProto name 1; TensorProto dims 1,
 * data_type 2, float_data 4, name 8, raw_data 9, data_location 14.
 */
public final class OnnxGraph {

    /** A node of the graph, as far as Sift reads one. */
    public record Node(String name, String opType, List<String> inputs, List<String> outputs) {}

    private static final int MODEL_GRAPH = 7;
    private static final int GRAPH_NODE = 1;
    private static final int GRAPH_INITIALIZER = 5;
    private static final int GRAPH_INPUT = 11;
    private static final int GRAPH_OUTPUT = 12;
    private static final int GRAPH_VALUE_INFO = 13;
    private static final int NODE_INPUT = 1;
    private static final int NODE_OUTPUT = 2;
    private static final int NODE_NAME = 3;
    private static final int NODE_OP_TYPE = 4;
    private static final int NODE_ATTRIBUTE = 5;
    private static final int ATTRIBUTE_NAME = 1;
    private static final int ATTRIBUTE_INT = 3;
    private static final int ATTRIBUTE_TYPE = 20;
    private static final int ATTRIBUTE_TYPE_INT = 2;
    private static final int TENSOR_DIMS = 1;
    private static final int TENSOR_DATA_TYPE = 2;
    private static final int TENSOR_FLOAT_DATA = 4;
    private static final int TENSOR_NAME = 8;
    private static final int TENSOR_RAW_DATA = 9;
    private static final int TENSOR_DATA_LOCATION = 14;
    private static final int VALUE_INFO_NAME = 1;
    private static final int FLOAT = 1;
    private static final int INT8 = 3;

    private final UnknownFieldSet model;
    private final UnknownFieldSet graph;
    private final List<ByteString> nodeBytes;
    private final List<Node> nodes;
    private final Map<String, ByteString> initializers = new LinkedHashMap<>();

    private OnnxGraph(UnknownFieldSet model) throws InvalidProtocolBufferException {
        this.model = model;
        List<ByteString> graphs = lengthDelimited(model, MODEL_GRAPH);
        if (graphs.size() != 1) {
            throw new InvalidProtocolBufferException(
                    "An ONNX model has one graph; this one has " + graphs.size());
        }
        this.graph = UnknownFieldSet.parseFrom(graphs.get(0));
        this.nodeBytes = lengthDelimited(graph, GRAPH_NODE);
        List<Node> parsed = new ArrayList<>(nodeBytes.size());
        for (ByteString bytes : nodeBytes) {
            UnknownFieldSet node = UnknownFieldSet.parseFrom(bytes);
            parsed.add(
                    new Node(
                            string(node, NODE_NAME),
                            string(node, NODE_OP_TYPE),
                            strings(node, NODE_INPUT),
                            strings(node, NODE_OUTPUT)));
        }
        this.nodes = List.copyOf(parsed);
        for (ByteString bytes : lengthDelimited(graph, GRAPH_INITIALIZER)) {
            initializers.put(string(UnknownFieldSet.parseFrom(bytes), TENSOR_NAME), bytes);
        }
    }

    /** Reads the model in {@code file}; its weights must be inside it, not in external files. */
    public static OnnxGraph read(Path file) throws IOException {
        try {
            return new OnnxGraph(UnknownFieldSet.parseFrom(Files.readAllBytes(file)));
        } catch (InvalidProtocolBufferException e) {
            throw new IOException(file + " is not an ONNX model: " + e.getMessage(), e);
        }
    }

    /** Reads a model held in memory, such as one {@link #between} returned. */
    public static OnnxGraph parse(byte[] model) throws IOException {
        return new OnnxGraph(UnknownFieldSet.parseFrom(model));
    }

    public List<Node> nodes() {
        return nodes;
    }

    /** The node named {@code name}, or {@code null}. */
    public Node node(String name) {
        for (Node node : nodes) {
            if (node.name().equals(name)) {
                return node;
            }
        }
        return null;
    }

    public boolean hasInitializer(String name) {
        return initializers.containsKey(name);
    }

    /** The name of the tensor layer {@code layer} (0-based) outputs, in a Hugging Face export. */
    public static String layerOutput(int layer) {
        return "/encoder/layer." + layer + "/output/LayerNorm/Add_1_output_0";
    }

    /** Whether some node outputs tensor {@code name}. */
    public boolean producesTensor(String name) {
        for (Node node : nodes) {
            if (node.outputs().contains(name)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A float32 initializer's values, row-major.
     *
     * @param expectedShape the shape the caller needs; anything else is refused
     */
    public float[] floats(String name, long[] expectedShape) throws IOException {
        ByteString bytes = initializers.get(name);
        if (bytes == null) {
            throw new IOException("The ONNX graph has no initializer " + name);
        }
        UnknownFieldSet tensor = UnknownFieldSet.parseFrom(bytes);
        requireFloat32InFile(name, tensor);
        long[] shape = dims(tensor);
        if (!Arrays.equals(shape, expectedShape)) {
            throw new IOException(
                    "Initializer "
                            + name
                            + " has shape "
                            + Arrays.toString(shape)
                            + ", not "
                            + Arrays.toString(expectedShape));
        }
        int count = Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b));
        float[] values = new float[count];
        List<ByteString> raw = lengthDelimited(tensor, TENSOR_RAW_DATA);
        if (!raw.isEmpty()) {
            FloatBuffer data =
                    raw.get(0)
                            .asReadOnlyByteBuffer()
                            .order(ByteOrder.LITTLE_ENDIAN)
                            .asFloatBuffer();
            if (data.remaining() != count) {
                throw new IOException(
                        "Initializer "
                                + name
                                + " has "
                                + data.remaining()
                                + " values, not "
                                + count);
            }
            data.get(values);
            return values;
        }
        UnknownFieldSet.Field field = tensor.getField(TENSOR_FLOAT_DATA);
        List<Integer> fixed = new ArrayList<>(field.getFixed32List());
        for (ByteString packed : field.getLengthDelimitedList()) {
            FloatBuffer data =
                    packed.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            while (data.hasRemaining()) {
                fixed.add(Float.floatToRawIntBits(data.get()));
            }
        }
        if (fixed.size() != count) {
            throw new IOException(
                    "Initializer " + name + " has " + fixed.size() + " values, not " + count);
        }
        for (int i = 0; i < count; i++) {
            values[i] = Float.intBitsToFloat(fixed.get(i));
        }
        return values;
    }

    /**
     * The model with {@code outputs} (float tensors some node produces) as its only outputs, and
     * only the nodes and initializers they need: ONNX Runtime computes every node of a graph, so a
     * trunk graph must not hold the layers above the trunk.
     */
    public byte[] cutTo(Collection<String> outputs) throws IOException {
        return cut(null, outputs, Map.of());
    }

    /**
     * The part of the model from tensor {@code input} to {@code outputs}, with new values for some
     * float initializers: {@code input} becomes a graph input (float, of any shape), the nodes that
     * compute it and everything only they need are left out, and the graph's own inputs that the
     * rest still reads (an attention mask) stay. This is how a fine-tuned top runs on ONNX Runtime:
     * the encoder's own upper layers, fed the trunk, holding the top's weights.
     *
     * @param replacements values by initializer name, each of exactly that initializer's size; an
     *     initializer the slice does not use is refused, as it means the weights would be silently
     *     left out
     */
    public byte[] between(
            String input, Collection<String> outputs, Map<String, float[]> replacements)
            throws IOException {
        if (!producesTensor(input)) {
            throw new IOException("No node of the ONNX graph outputs " + input);
        }
        return cut(input, outputs, replacements);
    }

    private byte[] cut(String input, Collection<String> outputs, Map<String, float[]> replacements)
            throws IOException {
        Map<String, Integer> producers = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (String output : nodes.get(i).outputs()) {
                producers.put(output, i);
            }
        }
        Set<Integer> kept = new HashSet<>();
        Set<String> needed = new HashSet<>();
        Deque<String> pending = new ArrayDeque<>();
        for (String output : outputs) {
            if (!producers.containsKey(output)) {
                throw new IOException("No node of the ONNX graph outputs " + output);
            }
            pending.add(output);
        }
        while (!pending.isEmpty()) {
            String tensor = pending.poll();
            if (!needed.add(tensor) || tensor.equals(input)) {
                continue;
            }
            Integer producer = producers.get(tensor);
            if (producer != null && kept.add(producer)) {
                for (String nodeInput : nodes.get(producer).inputs()) {
                    if (!nodeInput.isEmpty()) {
                        pending.add(nodeInput);
                    }
                }
            }
        }
        for (String name : replacements.keySet()) {
            if (!initializers.containsKey(name) || !needed.contains(name)) {
                throw new IOException(
                        "Initializer "
                                + name
                                + (initializers.containsKey(name)
                                        ? " is not used between " + input + " and " + outputs
                                        : " is not in the ONNX graph"));
            }
        }
        UnknownFieldSet.Builder cut = UnknownFieldSet.newBuilder(graph);
        cut.clearField(GRAPH_NODE).clearField(GRAPH_INITIALIZER);
        cut.clearField(GRAPH_OUTPUT).clearField(GRAPH_VALUE_INFO);
        UnknownFieldSet.Field.Builder keptNodes = UnknownFieldSet.Field.newBuilder();
        for (int i = 0; i < nodes.size(); i++) {
            if (kept.contains(i)) { // the original order is a valid topological order
                keptNodes.addLengthDelimited(nodeBytes.get(i));
            }
        }
        UnknownFieldSet.Field.Builder keptInitializers = UnknownFieldSet.Field.newBuilder();
        for (Map.Entry<String, ByteString> initializer : initializers.entrySet()) {
            String name = initializer.getKey();
            if (needed.contains(name)) {
                float[] values = replacements.get(name);
                keptInitializers.addLengthDelimited(
                        values == null ? initializer.getValue() : replaced(name, values));
            }
        }
        UnknownFieldSet.Field.Builder newOutputs = UnknownFieldSet.Field.newBuilder();
        for (String output : outputs) {
            newOutputs.addLengthDelimited(floatValueInfo(output));
        }
        if (input != null) {
            UnknownFieldSet.Field.Builder inputs = UnknownFieldSet.Field.newBuilder();
            for (ByteString original : lengthDelimited(graph, GRAPH_INPUT)) {
                if (needed.contains(string(UnknownFieldSet.parseFrom(original), VALUE_INFO_NAME))) {
                    inputs.addLengthDelimited(original);
                }
            }
            inputs.addLengthDelimited(floatValueInfo(input));
            cut.clearField(GRAPH_INPUT).addField(GRAPH_INPUT, inputs.build());
        }
        cut.addField(GRAPH_NODE, keptNodes.build());
        cut.addField(GRAPH_INITIALIZER, keptInitializers.build());
        cut.addField(GRAPH_OUTPUT, newOutputs.build());
        return withGraph(cut.build());
    }

    /**
     * This model with the named MatMul nodes, each multiplying by a float32 weight {@code [in,
     * out]}, done in 8-bit integers the way ONNX Runtime's dynamic quantization and the published
     * int8 encoders do it: the weight quantized once, symmetrically, with a scale per output
     * column; the activation quantized per pass ({@code DynamicQuantizeLinear}, once however many
     * of the nodes read it); {@code MatMulInteger}, then the int32 result scaled back to float32
     * under the MatMul's own output name, so every node downstream reads it unchanged.
     */
    public byte[] withInt8MatMuls(Collection<String> matMulNames) throws IOException {
        Set<String> wanted = new HashSet<>(matMulNames);
        Map<String, ByteString> newInitializers = new LinkedHashMap<>(initializers);
        Set<String> quantizedActivations = new HashSet<>();
        UnknownFieldSet.Field.Builder newNodes = UnknownFieldSet.Field.newBuilder();
        for (int i = 0; i < nodes.size(); i++) {
            Node node = nodes.get(i);
            if (!wanted.remove(node.name())) {
                newNodes.addLengthDelimited(nodeBytes.get(i));
                continue;
            }
            if (!node.opType().equals("MatMul")
                    || node.inputs().size() != 2
                    || !initializers.containsKey(node.inputs().get(1))) {
                throw new IOException(
                        "Node " + node.name() + " is not a MatMul by a weight; it cannot go 8-bit");
            }
            String activation = node.inputs().get(0);
            String weight = node.inputs().get(1);
            if (quantizedActivations.add(activation)) {
                newNodes.addLengthDelimited(
                        node(
                                activation + "_QuantizeLinear",
                                "DynamicQuantizeLinear",
                                List.of(activation),
                                List.of(
                                        activation + "_quantized",
                                        activation + "_scale",
                                        activation + "_zero_point")));
            }
            long[] shape = dims(UnknownFieldSet.parseFrom(initializers.get(weight)));
            if (shape.length != 2) {
                throw new IOException(
                        "Weight " + weight + " of " + node.name() + " is not a matrix");
            }
            quantizePerColumn(weight, floats(weight, shape), shape, newInitializers);
            if (nodes.stream().filter(other -> other.inputs().contains(weight)).count() == 1) {
                newInitializers.remove(weight);
            }
            String name = node.name();
            newNodes.addLengthDelimited(
                    node(
                            name + "_quant_scales_mul",
                            "Mul",
                            List.of(activation + "_scale", weight + "_scale"),
                            List.of(name + "_scales")));
            newNodes.addLengthDelimited(
                    node(
                            name + "_quant",
                            "MatMulInteger",
                            List.of(
                                    activation + "_quantized",
                                    weight + "_quantized",
                                    activation + "_zero_point",
                                    weight + "_zero_point"),
                            List.of(name + "_int32")));
            ByteString toFloat =
                    message(
                            out -> {
                                out.writeString(ATTRIBUTE_NAME, "to");
                                out.writeInt64(ATTRIBUTE_INT, FLOAT);
                                out.writeInt32(ATTRIBUTE_TYPE, ATTRIBUTE_TYPE_INT);
                            });
            newNodes.addLengthDelimited(
                    node(
                            name + "_int32_cast",
                            "Cast",
                            List.of(name + "_int32"),
                            List.of(name + "_int32_float"),
                            toFloat));
            newNodes.addLengthDelimited(
                    node(
                            name + "_quant_output_scale_mul",
                            "Mul",
                            List.of(name + "_int32_float", name + "_scales"),
                            node.outputs()));
        }
        if (!wanted.isEmpty()) {
            throw new IOException("The ONNX graph has no nodes " + wanted);
        }
        UnknownFieldSet.Field.Builder allInitializers = UnknownFieldSet.Field.newBuilder();
        newInitializers.values().forEach(allInitializers::addLengthDelimited);
        UnknownFieldSet.Builder quantized = UnknownFieldSet.newBuilder(graph);
        quantized.clearField(GRAPH_NODE).clearField(GRAPH_INITIALIZER).clearField(GRAPH_VALUE_INFO);
        quantized.addField(GRAPH_NODE, newNodes.build());
        quantized.addField(GRAPH_INITIALIZER, allInitializers.build());
        return withGraph(quantized.build());
    }

    /**
     * Adds {@code weight}'s int8 values, per-column scales and zero points (all 0: symmetric, as
     * the published int8 encoders' are) to {@code initializers}.
     */
    private static void quantizePerColumn(
            String weight, float[] values, long[] shape, Map<String, ByteString> initializers)
            throws IOException {
        int rows = Math.toIntExact(shape[0]);
        int columns = Math.toIntExact(shape[1]);
        float[] scales = new float[columns];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < columns; c++) {
                scales[c] = Math.max(scales[c], Math.abs(values[r * columns + c]));
            }
        }
        for (int c = 0; c < columns; c++) {
            scales[c] = scales[c] == 0 ? 1 : scales[c] / 127;
        }
        byte[] quantized = new byte[values.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < columns; c++) {
                int q = Math.round(values[r * columns + c] / scales[c]);
                quantized[r * columns + c] = (byte) Math.max(-127, Math.min(127, q));
            }
        }
        ByteBuffer scaleBytes =
                ByteBuffer.allocate(columns * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        scaleBytes.asFloatBuffer().put(scales);
        initializers.put(
                weight + "_quantized", tensor(weight + "_quantized", shape, INT8, quantized));
        initializers.put(
                weight + "_scale",
                tensor(weight + "_scale", new long[] {columns}, FLOAT, scaleBytes.array()));
        initializers.put(
                weight + "_zero_point",
                tensor(weight + "_zero_point", new long[] {columns}, INT8, new byte[columns]));
    }

    private static ByteString tensor(String name, long[] shape, int type, byte[] raw)
            throws IOException {
        return message(
                out -> {
                    for (long dim : shape) {
                        out.writeInt64(TENSOR_DIMS, dim);
                    }
                    out.writeInt32(TENSOR_DATA_TYPE, type);
                    out.writeString(TENSOR_NAME, name);
                    out.writeBytes(TENSOR_RAW_DATA, ByteString.copyFrom(raw));
                });
    }

    private static ByteString node(
            String name,
            String opType,
            List<String> inputs,
            List<String> outputs,
            ByteString... attributes)
            throws IOException {
        return message(
                out -> {
                    for (String input : inputs) {
                        out.writeString(NODE_INPUT, input);
                    }
                    for (String output : outputs) {
                        out.writeString(NODE_OUTPUT, output);
                    }
                    out.writeString(NODE_NAME, name);
                    out.writeString(NODE_OP_TYPE, opType);
                    for (ByteString attribute : attributes) {
                        out.writeBytes(NODE_ATTRIBUTE, attribute);
                    }
                });
    }

    /** The model bytes with {@code newGraph} as its graph. */
    private byte[] withGraph(UnknownFieldSet newGraph) {
        UnknownFieldSet.Builder result = UnknownFieldSet.newBuilder(model);
        result.clearField(MODEL_GRAPH);
        result.addField(
                MODEL_GRAPH,
                UnknownFieldSet.Field.newBuilder()
                        .addLengthDelimited(newGraph.toByteString())
                        .build());
        return result.build().toByteArray();
    }

    /** Refuses an initializer that is not float32 or whose data lives outside the model file. */
    private static void requireFloat32InFile(String name, UnknownFieldSet tensor)
            throws IOException {
        long type = varint(tensor, TENSOR_DATA_TYPE);
        if (type != FLOAT) {
            throw new IOException(
                    "Initializer "
                            + name
                            + " holds ONNX data type "
                            + type
                            + ", not float32 (1): an 8-bit graph has no float weights to"
                            + " start from; use the float32 import of the encoder");
        }
        if (tensor.hasField(TENSOR_DATA_LOCATION) && varint(tensor, TENSOR_DATA_LOCATION) != 0) {
            throw new IOException("Initializer " + name + " lives in an external file");
        }
    }

    /** Initializer {@code name} with its shape kept and {@code values} as its float32 data. */
    private ByteString replaced(String name, float[] values) throws IOException {
        UnknownFieldSet tensor = UnknownFieldSet.parseFrom(initializers.get(name));
        requireFloat32InFile(name, tensor);
        long[] shape = dims(tensor);
        long count = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        if (values.length != count) {
            throw new IOException(
                    "Initializer "
                            + name
                            + " of shape "
                            + Arrays.toString(shape)
                            + " cannot take "
                            + values.length
                            + " values");
        }
        ByteBuffer raw =
                ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(values);
        return tensor(name, shape, FLOAT, raw.array());
    }

    /** A ValueInfoProto: {@code name}, a float tensor of any shape. */
    private static ByteString floatValueInfo(String name) throws IOException {
        ByteString tensorType = message(out -> out.writeInt32(1, FLOAT)); // elem_type
        ByteString type = message(out -> out.writeBytes(1, tensorType)); // TypeProto.tensor_type
        return message(
                out -> {
                    out.writeString(1, name);
                    out.writeBytes(2, type);
                });
    }

    private interface Writer {
        void write(CodedOutputStream out) throws IOException;
    }

    private static ByteString message(Writer writer) throws IOException {
        ByteString.Output bytes = ByteString.newOutput();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        writer.write(out);
        out.flush();
        return bytes.toByteString();
    }

    private static List<ByteString> lengthDelimited(UnknownFieldSet message, int field) {
        return message.hasField(field)
                ? message.getField(field).getLengthDelimitedList()
                : List.of();
    }

    private static String string(UnknownFieldSet message, int field) {
        List<ByteString> values = lengthDelimited(message, field);
        return values.isEmpty() ? "" : values.get(0).toStringUtf8();
    }

    private static List<String> strings(UnknownFieldSet message, int field) {
        return lengthDelimited(message, field).stream().map(ByteString::toStringUtf8).toList();
    }

    private static long varint(UnknownFieldSet message, int field) {
        List<Long> values =
                message.hasField(field) ? message.getField(field).getVarintList() : List.of();
        return values.isEmpty() ? 0 : values.get(0);
    }

    /** Dimensions, written either one varint each or packed. */
    private static long[] dims(UnknownFieldSet tensor) throws IOException {
        if (!tensor.hasField(TENSOR_DIMS)) {
            return new long[0];
        }
        UnknownFieldSet.Field field = tensor.getField(TENSOR_DIMS);
        List<Long> dims = new ArrayList<>(field.getVarintList());
        for (ByteString packed : field.getLengthDelimitedList()) {
            CodedInputStream in = packed.newCodedInput();
            while (!in.isAtEnd()) {
                dims.add(in.readInt64());
            }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }
}
