package dev.sift.model.encode;

import ai.djl.Device;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderManifest;
import java.io.IOException;

/** Opens an encoder bundle on the engine its manifest names. */
public final class Encoders {

    private Encoders() {}

    /**
     * Loads {@code bundle} on its engine: TensorFlow on {@code device} in {@code precision}, or
     * ONNX Runtime on the CPU, where the graph's own weights set the precision (int8 or float32).
     * The bundle's files are trusted as they are; verify first.
     *
     * @throws IllegalArgumentException for a precision or device the engine cannot honour
     */
    public static Encoder load(EncoderBundle bundle, Device device, EncoderPrecision precision)
            throws IOException {
        return switch (bundle.manifest().runtime()) {
            case TENSORFLOW -> TensorFlowEncoder.load(bundle, device, precision.sessionConfig());
            case ONNX_RUNTIME -> {
                if (precision != EncoderPrecision.FLOAT32) {
                    throw new IllegalArgumentException(
                            "Encoder "
                                    + bundle.manifest().name()
                                    + " runs on ONNX Runtime, whose arithmetic is the graph's own ("
                                    + bundle.manifest().weightPrecision()
                                    + "); "
                                    + precision.id()
                                    + " is for TensorFlow encoders");
                }
                yield OnnxEncoder.load(bundle);
            }
        };
    }

    /**
     * Refuses a batch longer than {@code manifest}'s encoder accepts, before any engine sees it.
     */
    static void requireFits(PaddedBatch batch, EncoderManifest manifest) {
        if (batch.length() > manifest.maxSeqLen()) {
            throw new IllegalArgumentException(
                    "A sequence of "
                            + batch.length()
                            + " tokens exceeds the encoder's maximum of "
                            + manifest.maxSeqLen());
        }
    }

    /** Refuses a trunk depth outside 1 to {@code manifest}'s layer count. */
    static void requireTrunkDepth(int depth, EncoderManifest manifest) {
        int layers = manifest.transformerLayers();
        if (depth < 1 || depth > layers) {
            throw new IllegalArgumentException(
                    "A trunk has 1 to "
                            + layers
                            + " layers of encoder "
                            + manifest.name()
                            + ", not "
                            + depth);
        }
    }

    /** Loads {@code bundle} on its engine's default device, in float32 where that is a choice. */
    public static Encoder load(EncoderBundle bundle) throws IOException {
        return switch (bundle.manifest().runtime()) {
            case TENSORFLOW -> TensorFlowEncoder.load(bundle);
            case ONNX_RUNTIME -> OnnxEncoder.load(bundle);
        };
    }
}
