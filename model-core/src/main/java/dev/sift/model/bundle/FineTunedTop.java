package dev.sift.model.bundle;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What the manifest of a fine-tuned model version records about its top: the file with its own
 * layers and head, where the top sits on the encoder, and which encoder's trunk it reads.
 *
 * <p>Serving runs the encoder's bottom {@code trunkLayers} layers once per batch for every model on
 * that encoder (the trunk), then this model's {@code topLayers} layers, pooling and head from
 * {@code file}. The two add up to the encoder's layer count: the top replaces the encoder's upper
 * layers, it does not skip or add any.
 *
 * @param file the {@code top.bin} inside the bundle (see {@code TopFormat}), listed in the
 *     manifest's files like every other file
 * @param trunkLayers the split point: how many of the encoder's layers stay frozen and shared
 * @param topLayers K, how many layers the model owns above the split
 * @param trunkEncoderHash content hash of the encoder whose trunk the top was trained on
 * @param precision {@link #INT8} when the top's matrix multiplies are served in 8-bit integers (on
 *     ONNX Runtime, quantized per output column when the top loads); null, and left out of the
 *     JSON, for float32
 */
public record FineTunedTop(
        String file,
        int trunkLayers,
        int topLayers,
        String trunkEncoderHash,
        @JsonInclude(JsonInclude.Include.NON_NULL) String precision) {

    public static final String TOP_FILE = "top.bin";

    /** The precision of a top served with 8-bit matrix multiplies. */
    public static final String INT8 = "int8";

    /** A top served in float32, as it was trained. */
    public FineTunedTop(String file, int trunkLayers, int topLayers, String trunkEncoderHash) {
        this(file, trunkLayers, topLayers, trunkEncoderHash, null);
    }

    /** Whether the top's matrix multiplies are served in 8-bit integers. */
    @JsonIgnore // derived from precision; not a field of the JSON
    public boolean isInt8() {
        return INT8.equals(precision);
    }
}
