package dev.sift.model.testing;

import com.google.protobuf.CodedOutputStream;
import dev.sift.model.bundle.Directories;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.bundle.TensorNames;
import dev.sift.model.tokenize.TokenizerJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Random;

/**
 * A small ONNX encoder written here, byte by byte, with the interface of the published ones (int64
 * {@code input_ids}, {@code attention_mask}, {@code token_type_ids}; float {@code
 * last_hidden_state}) and the tiny BERT's vocabulary, and its forward pass in plain Java ({@link
 * #reference}) to hold ONNX Runtime's answers to:
 *
 * <pre>
 * h[b, t] = tanh((E[ids[b, t]] + S[types[b, t]]) · W) * mask[b, t]
 * </pre>
 *
 * <p>It has no attention, so it is an encoder in interface only; what it tests is the engine's side
 * of Sift: inputs named and typed as the graph wants, the output read back in the right order,
 * pooling over real positions, and the bundle format.
 */
public final class TinyOnnxEncoder {

    public static final int HIDDEN_SIZE = 16;
    public static final int MAX_SEQ_LEN = TinyBertEncoder.MAX_SEQ_LEN;
    private static final long SEED = 20261207L;

    private static final int FLOAT = 1;
    private static final int INT64 = 7;

    private final float[][] words;
    private final float[][] types;
    private final float[][] kernel;

    private TinyOnnxEncoder(int vocabSize) {
        Random random = new Random(SEED);
        words = gaussian(random, vocabSize, HIDDEN_SIZE, 0.5);
        types = gaussian(random, 2, HIDDEN_SIZE, 0.5);
        kernel = gaussian(random, HIDDEN_SIZE, HIDDEN_SIZE, 0.4);
    }

    /** The encoder's weights, the same on every call. */
    public static TinyOnnxEncoder weights() {
        return new TinyOnnxEncoder(TinyBertEncoder.vocabulary().size());
    }

    /** Writes the bundle (graph, tokenizer, manifest) under {@code encodersRoot}. */
    public static EncoderBundle buildInto(Path encodersRoot) throws IOException {
        Files.createDirectories(encodersRoot);
        Path staging = Files.createTempDirectory(encodersRoot, ".tiny-onnx-");
        try {
            List<String> vocab = TinyBertEncoder.vocabulary();
            Files.write(staging.resolve("model.onnx"), weights().graph());
            Path vocabFile = Files.createTempFile("tiny-onnx-vocab", ".txt");
            try {
                Files.write(vocabFile, vocab, StandardCharsets.UTF_8);
                TokenizerJson.write(vocabFile, true, staging.resolve("tokenizer.json"));
            } finally {
                Files.delete(vocabFile);
            }
            EncoderManifest draft =
                    EncoderManifest.builder(
                                    "tiny-onnx-test", "built by " + TinyOnnxEncoder.class.getName())
                            .onnxGraph("model.onnx", onnxNames(), "float32", Pooling.MEAN)
                            .hiddenSize(HIDDEN_SIZE)
                            .maxSeqLen(MAX_SEQ_LEN)
                            .tokenizer("tokenizer.json", true)
                            .createdAt(Instant.EPOCH.toString())
                            .layers(1, 1, HIDDEN_SIZE)
                            .build();
            return EncoderBundle.install(staging, draft, encodersRoot);
        } finally {
            Directories.deleteRecursively(staging);
        }
    }

    /** The names the published encoders use, which this graph shares. */
    public static TensorNames onnxNames() {
        return new TensorNames(
                "input_ids", "attention_mask", "token_type_ids", null, "last_hidden_state");
    }

    /** The last hidden state of one sequence, {@code (T, d)}, computed in Java. */
    public float[][] reference(int[] ids, int[] mask, int[] segments) {
        float[][] out = new float[ids.length][HIDDEN_SIZE];
        for (int t = 0; t < ids.length; t++) {
            for (int j = 0; j < HIDDEN_SIZE; j++) {
                double sum = 0;
                for (int i = 0; i < HIDDEN_SIZE; i++) {
                    sum += (words[ids[t]][i] + types[segments[t]][i]) * kernel[i][j];
                }
                out[t][j] = (float) Math.tanh(sum) * mask[t];
            }
        }
        return out;
    }

    /** The ONNX ModelProto (IR 7, opset 11), serialized. */
    byte[] graph() {
        byte[] graph =
                message(
                        nodes(
                                node("Gather", List.of("words", "input_ids"), "word_vectors"),
                                node("Gather", List.of("types", "token_type_ids"), "type_vectors"),
                                node("Add", List.of("word_vectors", "type_vectors"), "summed"),
                                node("MatMul", List.of("summed", "kernel"), "projected"),
                                node("Tanh", List.of("projected"), "activated"),
                                node(
                                        "Unsqueeze",
                                        List.of("attention_mask"),
                                        "mask_3d",
                                        attribute("axes", 7, 2)),
                                node(
                                        "Cast",
                                        List.of("mask_3d"),
                                        "mask_float",
                                        attribute("to", 2, FLOAT)),
                                node(
                                        "Mul",
                                        List.of("activated", "mask_float"),
                                        "last_hidden_state")),
                        // GraphProto: name 2, initializer 5, input 11, output 12.
                        out -> {
                            out.writeString(2, "tiny-onnx-test");
                            out.writeByteArray(5, tensor("words", words));
                            out.writeByteArray(5, tensor("types", types));
                            out.writeByteArray(5, tensor("kernel", kernel));
                            for (String input :
                                    List.of("input_ids", "attention_mask", "token_type_ids")) {
                                out.writeByteArray(11, valueInfo(input, INT64, "batch", "length"));
                            }
                            out.writeByteArray(
                                    12,
                                    valueInfo(
                                            "last_hidden_state",
                                            FLOAT,
                                            "batch",
                                            "length",
                                            HIDDEN_SIZE));
                        });
        // ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8 (its version: 2).
        return message(
                out -> {
                    out.writeInt64(1, 7);
                    out.writeString(2, "sift-tests");
                    out.writeByteArray(7, graph);
                    out.writeByteArray(8, message(o -> o.writeInt64(2, 11)));
                });
    }

    private interface Fields {
        void write(CodedOutputStream out) throws IOException;
    }

    /** GraphProto's node field, 1. */
    private static Fields nodes(byte[]... nodes) {
        return out -> {
            for (byte[] node : nodes) {
                out.writeByteArray(1, node);
            }
        };
    }

    private static byte[] message(Fields... parts) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        try {
            for (Fields part : parts) {
                part.write(out);
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5. */
    private static byte[] node(
            String op, List<String> inputs, String output, byte[]... attributes) {
        return message(
                out -> {
                    for (String input : inputs) {
                        out.writeString(1, input);
                    }
                    out.writeString(2, output);
                    out.writeString(3, output + "_" + op.toLowerCase(java.util.Locale.ROOT));
                    out.writeString(4, op);
                    for (byte[] attribute : attributes) {
                        out.writeByteArray(5, attribute);
                    }
                });
    }

    /**
     * AttributeProto: name 1, i 3, ints 8, type 20; {@code type} 2 is INT, 7 is INTS (one value
     * here).
     */
    private static byte[] attribute(String name, int type, long value) {
        return message(
                out -> {
                    out.writeString(1, name);
                    out.writeInt64(type == 7 ? 8 : 3, value);
                    out.writeEnum(20, type);
                });
    }

    /** TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian). */
    private static byte[] tensor(String name, float[][] values) {
        ByteBuffer raw =
                ByteBuffer.allocate(values.length * values[0].length * Float.BYTES)
                        .order(ByteOrder.LITTLE_ENDIAN);
        for (float[] row : values) {
            for (float value : row) {
                raw.putFloat(value);
            }
        }
        return message(
                out -> {
                    out.writeInt64(1, values.length);
                    out.writeInt64(1, values[0].length);
                    out.writeInt32(2, FLOAT);
                    out.writeString(8, name);
                    out.writeByteArray(9, raw.array());
                });
    }

    /**
     * ValueInfoProto (name 1, type 2) around TypeProto.tensor_type 1 (elem_type 1, shape 2):
     * symbolic dimensions by name, fixed ones by size.
     */
    private static byte[] valueInfo(String name, int elementType, Object... dims) {
        byte[] shape =
                message(
                        out -> {
                            for (Object dim : dims) {
                                out.writeByteArray(
                                        1,
                                        message(
                                                d -> {
                                                    if (dim instanceof Integer size) {
                                                        d.writeInt64(1, size);
                                                    } else {
                                                        d.writeString(2, (String) dim);
                                                    }
                                                }));
                            }
                        });
        byte[] tensorType =
                message(
                        out -> {
                            out.writeInt32(1, elementType);
                            out.writeByteArray(2, shape);
                        });
        return message(
                out -> {
                    out.writeString(1, name);
                    out.writeByteArray(2, message(o -> o.writeByteArray(1, tensorType)));
                });
    }

    private static float[][] gaussian(Random random, int rows, int columns, double scale) {
        float[][] values = new float[rows][columns];
        for (float[] row : values) {
            for (int j = 0; j < columns; j++) {
                row[j] = (float) (scale * random.nextGaussian());
            }
        }
        return values;
    }
}
