package dev.sift.model.encode;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import java.io.IOException;
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
 * nodes and float initializers, and a copy of the model cut to other outputs. Sift needs two things
 * from an encoder's graph that ONNX Runtime does not give: the output of a middle layer (a trunk,
 * for fine-tuned tops) and the float32 weights of its top layers (to start fine-tuning from).
 *
 * <p>Both lean on how Hugging Face's PyTorch exports name a BERT encoder's graph: node {@code
 * /encoder/layer.3/attention/self/query/MatMul} multiplies by its kernel, initializer {@code
 * encoder.layer.3.attention.self.query.bias} is the bias, and tensor {@code
 * /encoder/layer.3/output/LayerNorm/Add_1_output_0} is layer 3's output. Graphs named otherwise are
 * refused with that said, never guessed at.
 *
 * <p>Field numbers are those of {@code onnx.proto}: ModelProto graph 7; GraphProto node 1,
 * initializer 5, input 11, output 12, value_info 13; NodeProto input 1, output 2, name 3, op_type
 * 4, attribute 5; TensorProto dims 1, data_type 2, float_data 4, name 8, raw_data 9, data_location
 * 14.
 */
public final class OnnxGraph {

    /** A node of the graph, as far as Sift reads one. */
    public record Node(String name, String opType, List<String> inputs, List<String> outputs) {}

    private static final int MODEL_GRAPH = 7;
    private static final int GRAPH_NODE = 1;
    private static final int GRAPH_INITIALIZER = 5;
    private static final int GRAPH_OUTPUT = 12;
    private static final int GRAPH_VALUE_INFO = 13;
    private static final int NODE_INPUT = 1;
    private static final int NODE_OUTPUT = 2;
    private static final int NODE_NAME = 3;
    private static final int NODE_OP_TYPE = 4;
    private static final int TENSOR_DIMS = 1;
    private static final int TENSOR_DATA_TYPE = 2;
    private static final int TENSOR_FLOAT_DATA = 4;
    private static final int TENSOR_NAME = 8;
    private static final int TENSOR_RAW_DATA = 9;
    private static final int TENSOR_DATA_LOCATION = 14;
    private static final int FLOAT = 1;

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
            if (!needed.add(tensor)) {
                continue;
            }
            Integer producer = producers.get(tensor);
            if (producer != null && kept.add(producer)) {
                for (String input : nodes.get(producer).inputs()) {
                    if (!input.isEmpty()) {
                        pending.add(input);
                    }
                }
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
        initializers.forEach(
                (name, bytes) -> {
                    if (needed.contains(name)) {
                        keptInitializers.addLengthDelimited(bytes);
                    }
                });
        UnknownFieldSet.Field.Builder newOutputs = UnknownFieldSet.Field.newBuilder();
        for (String output : outputs) {
            newOutputs.addLengthDelimited(floatValueInfo(output));
        }
        cut.addField(GRAPH_NODE, keptNodes.build());
        cut.addField(GRAPH_INITIALIZER, keptInitializers.build());
        cut.addField(GRAPH_OUTPUT, newOutputs.build());
        UnknownFieldSet.Builder result = UnknownFieldSet.newBuilder(model);
        result.clearField(MODEL_GRAPH);
        result.addField(
                MODEL_GRAPH,
                UnknownFieldSet.Field.newBuilder()
                        .addLengthDelimited(cut.build().toByteString())
                        .build());
        return result.build().toByteArray();
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
