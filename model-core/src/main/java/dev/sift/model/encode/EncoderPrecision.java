package dev.sift.model.encode;

import ai.djl.tensorflow.engine.javacpp.JavacppUtils;
import java.util.Locale;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.RewriterConfig;

/**
 * The arithmetic an encoder's forward pass runs in.
 *
 * <pre>{@code
 * Encoder encoder = TensorFlowEncoder.load(bundle, EncoderPrecision.BFLOAT16.sessionConfig());
 * }</pre>
 *
 * <p>{@link #BFLOAT16} turns on Grappler's oneDNN auto mixed precision: TensorFlow rewrites the
 * graph's matrix multiplies and their neighbours to bfloat16 where it deems that safe (softmax,
 * layer norm and reductions stay float32) and keeps the weights in float32. It pays off on CPUs
 * with AVX512_BF16 or AMX; elsewhere oneDNN emulates bfloat16 and a pass gets slower, not faster.
 */
public enum EncoderPrecision {
    /** The SavedModel as it is: every op in float32. The default. */
    FLOAT32,
    /** Grappler's oneDNN auto mixed precision (bfloat16 matrix multiplies, float32 elsewhere). */
    BFLOAT16;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The id, which is also how configuration files spell it. */
    @Override
    public String toString() {
        return id();
    }

    /**
     * The TensorFlow session configuration for this precision: null (DJL's default) for float32;
     * for bfloat16, DJL's default ({@link JavacppUtils#getSessionConfig()}, which carries its
     * thread and GPU settings) with the oneDNN bfloat16 rewrite switched on.
     */
    public ConfigProto sessionConfig() {
        if (this == FLOAT32) {
            return null;
        }
        ConfigProto defaults = JavacppUtils.getSessionConfig();
        ConfigProto.Builder config = defaults.toBuilder();
        config.getGraphOptionsBuilder()
                .getRewriteOptionsBuilder()
                .setAutoMixedPrecisionOnednnBfloat16(RewriterConfig.Toggle.ON);
        return config.build();
    }
}
