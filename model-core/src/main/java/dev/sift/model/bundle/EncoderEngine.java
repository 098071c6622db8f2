package dev.sift.model.bundle;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;

/** The runtime an encoder bundle's graph is written for. */
public enum EncoderEngine {
    /** A TensorFlow SavedModel (BERT-base), run by DJL's TensorFlow engine. */
    TENSORFLOW("tensorflow"),
    /** An ONNX graph (the small int8 and float32 encoders), run by DJL's ONNX Runtime engine. */
    ONNX_RUNTIME("onnxruntime");

    private final String id;

    EncoderEngine(String id) {
        this.id = id;
    }

    @JsonValue
    public String id() {
        return id;
    }

    @JsonCreator
    public static EncoderEngine of(String id) {
        for (EncoderEngine engine : values()) {
            if (engine.id.equals(id)) {
                return engine;
            }
        }
        throw new IllegalArgumentException(
                "Unknown encoder engine '"
                        + id
                        + "'; expected one of "
                        + Arrays.stream(values()).map(EncoderEngine::id).toList());
    }
}
