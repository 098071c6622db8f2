package dev.sift.model.finetune;

import dev.sift.model.bundle.Activation;
import dev.sift.model.bundle.BundleException;
import dev.sift.model.bundle.LayerShape;
import dev.sift.model.bundle.Pooling;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The on-disk form of a fine-tuned top's {@link TopWeights}, {@code top.bin}: its {@link TopSpec}
 * and every parameter by name and shape, the head's included. Little-endian throughout:
 *
 * <pre>
 * size          field
 * 8             magic, ASCII "SIFT_TOP"
 * 4             format version, int32: 1, or 2 for a top whose activation is not BERT's
 *               tanh-approximated GELU
 * 4 · 3         layer shape: hiddenSize, heads, intermediateSize (int32)
 * 4 · 2         firstLayer, layers (int32)
 * 4 + n         pooling id (int32 byte length n, then UTF-8, e.g. "cls")
 * 4 + n         version 2 only: activation id (as above, "gelu"); version 1 is "gelu_tanh"
 * 4             labels (int32)
 * 4             parameter count (int32)
 * per parameter, in {@link TopSpec#parameters()} order:
 *   4 + n       name (int32 byte length n, then UTF-8)
 *   4           rank r (int32)
 *   8 · r       dimensions (int64)
 *   4 · ∏dims   values, float32, row-major
 * </pre>
 *
 * {@link #read} is strict: the spec must be one this build can run, every parameter of the spec
 * must appear exactly once with exactly its shape, nothing else may appear, and the file must end
 * right after the last value. Sizes are bounded before anything is allocated, so a corrupt header
 * cannot ask for gigabytes.
 */
public final class TopFormat {

    /** The newest version; tops with BERT's activation are still written as version 1. */
    public static final int VERSION = 2;

    private static final int VERSION_TANH_GELU = 1;
    private static final byte[] MAGIC = "SIFT_TOP".getBytes(StandardCharsets.US_ASCII);

    /** Far above BERT-large (1024 wide, 16 heads, 4096 feed-forward, 24 layers). */
    static final int MAX_HIDDEN_SIZE = 8192;

    static final int MAX_INTERMEDIATE_SIZE = 65536;
    static final int MAX_LAYERS = 128;
    static final int MAX_LABELS = 65536;
    private static final int MAX_NAME_BYTES = 256;

    private TopFormat() {}

    public static byte[] toBytes(TopWeights weights) {
        TopSpec spec = weights.spec();
        Map<String, long[]> parameters = spec.parameters();
        long size = headerBytes(spec);
        for (Map.Entry<String, long[]> parameter : parameters.entrySet()) {
            size += parameterHeaderBytes(parameter.getKey(), parameter.getValue());
            size += 4L * elements(parameter.getValue());
        }
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(
                    "A top of " + size + " bytes does not fit one top.bin (2 GB at most)");
        }
        ByteBuffer buffer = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        buffer.put(MAGIC).putInt(version(spec));
        LayerShape shape = spec.shape();
        buffer.putInt(shape.hiddenSize()).putInt(shape.heads()).putInt(shape.intermediateSize());
        buffer.putInt(spec.firstLayer()).putInt(spec.layers());
        putString(buffer, spec.pooling().id());
        if (version(spec) == VERSION) {
            putString(buffer, spec.activation().id());
        }
        buffer.putInt(spec.labels());
        buffer.putInt(parameters.size());
        for (Map.Entry<String, long[]> parameter : parameters.entrySet()) {
            putString(buffer, parameter.getKey());
            buffer.putInt(parameter.getValue().length);
            for (long dimension : parameter.getValue()) {
                buffer.putLong(dimension);
            }
            float[] values = weights.get(parameter.getKey());
            buffer.asFloatBuffer().put(values);
            buffer.position(buffer.position() + 4 * values.length);
        }
        return buffer.array();
    }

    /**
     * Version 1 for BERT's activation, so that a top written before version 2 existed is written
     * again byte for byte, and its bundle's content hash holds.
     */
    private static int version(TopSpec spec) {
        return spec.activation() == Activation.GELU_TANH ? VERSION_TANH_GELU : VERSION;
    }

    public static void write(TopWeights weights, Path file) throws IOException {
        Files.write(file, toBytes(weights));
    }

    /** Reads and validates {@code file}; a {@link BundleException} names the file and the fault. */
    public static TopWeights read(Path file) throws IOException {
        try {
            return fromBytes(Files.readAllBytes(file));
        } catch (BundleException e) {
            throw new BundleException(file.getFileName() + ": " + e.getMessage(), e);
        }
    }

    public static TopWeights fromBytes(byte[] bytes) throws BundleException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        try {
            TopSpec spec = readSpec(buffer);
            Map<String, long[]> expected = spec.parameters();
            int count = buffer.getInt();
            if (count != expected.size()) {
                throw new BundleException(
                        "holds "
                                + count
                                + " parameters but its spec "
                                + spec
                                + " has "
                                + expected.size());
            }
            Map<String, float[]> values = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                String name = getString(buffer, "parameter name");
                long[] shape = expected.get(name);
                if (shape == null) {
                    throw new BundleException(
                            "parameter " + name + " is not part of the top " + spec);
                }
                if (values.containsKey(name)) {
                    throw new BundleException("parameter " + name + " appears twice");
                }
                long[] stored = readShape(buffer, name);
                if (!Arrays.equals(stored, shape)) {
                    throw new BundleException(
                            name
                                    + " has shape "
                                    + Arrays.toString(stored)
                                    + " but the spec needs "
                                    + Arrays.toString(shape));
                }
                int n = (int) elements(shape);
                if (buffer.remaining() < 4L * n) {
                    throw new BundleException(
                            "ends inside the values of " + name + " (truncated file?)");
                }
                float[] value = new float[n];
                buffer.asFloatBuffer().get(value);
                buffer.position(buffer.position() + 4 * n);
                values.put(name, value);
            }
            if (buffer.hasRemaining()) {
                throw new BundleException(buffer.remaining() + " bytes follow the last parameter");
            }
            return TopWeights.of(spec, values);
        } catch (BufferUnderflowException e) {
            throw new BundleException("ends early (truncated file?)", e);
        }
    }

    private static TopSpec readSpec(ByteBuffer buffer) throws BundleException {
        if (buffer.remaining() < MAGIC.length + 4) {
            throw new BundleException("is too short to be a Sift top");
        }
        byte[] magic = new byte[MAGIC.length];
        buffer.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new BundleException("not a Sift top (magic \"SIFT_TOP\" missing)");
        }
        int version = buffer.getInt();
        if (version != VERSION_TANH_GELU && version != VERSION) {
            throw new BundleException(
                    "format version "
                            + version
                            + " is not supported (this build reads 1 and "
                            + VERSION
                            + ")");
        }
        int hidden = bounded(buffer.getInt(), 1, MAX_HIDDEN_SIZE, "hidden size");
        int heads = bounded(buffer.getInt(), 1, hidden, "attention heads");
        int intermediate = bounded(buffer.getInt(), 1, MAX_INTERMEDIATE_SIZE, "intermediate size");
        int firstLayer = bounded(buffer.getInt(), 1, MAX_LAYERS, "first layer");
        int layers = bounded(buffer.getInt(), 1, MAX_LAYERS, "layer count");
        String poolingId = getString(buffer, "pooling");
        String activationId =
                version == VERSION ? getString(buffer, "activation") : Activation.GELU_TANH.id();
        int labels = bounded(buffer.getInt(), 2, MAX_LABELS, "label count");
        try {
            return new TopSpec(
                    new LayerShape(hidden, heads, intermediate),
                    firstLayer,
                    layers,
                    Pooling.of(poolingId),
                    labels,
                    Activation.of(activationId));
        } catch (IllegalArgumentException e) {
            throw new BundleException("bad spec: " + e.getMessage(), e);
        }
    }

    private static long[] readShape(ByteBuffer buffer, String name) throws BundleException {
        int rank = bounded(buffer.getInt(), 1, 2, "rank of " + name);
        long[] shape = new long[rank];
        for (int i = 0; i < rank; i++) {
            shape[i] = buffer.getLong();
        }
        return shape;
    }

    private static int bounded(int value, int min, int max, String what) throws BundleException {
        if (value < min || value > max) {
            throw new BundleException(what + " " + value + " is outside " + min + ".." + max);
        }
        return value;
    }

    private static String getString(ByteBuffer buffer, String what) throws BundleException {
        int length = bounded(buffer.getInt(), 1, MAX_NAME_BYTES, "length of the " + what);
        byte[] bytes = new byte[length];
        buffer.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static void putString(ByteBuffer buffer, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        buffer.putInt(bytes.length).put(bytes);
    }

    private static long headerBytes(TopSpec spec) {
        return MAGIC.length
                + 4 // version
                + 3 * 4 // layer shape
                + 2 * 4 // firstLayer, layers
                + 4
                + spec.pooling().id().getBytes(StandardCharsets.UTF_8).length
                + (version(spec) == VERSION
                        ? 4 + spec.activation().id().getBytes(StandardCharsets.UTF_8).length
                        : 0)
                + 4 // labels
                + 4; // parameter count
    }

    private static long parameterHeaderBytes(String name, long[] shape) {
        return 4 + name.getBytes(StandardCharsets.UTF_8).length + 4 + 8L * shape.length;
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long dimension : shape) {
            n *= dimension;
        }
        return n;
    }
}
