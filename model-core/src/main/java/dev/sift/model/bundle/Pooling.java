package dev.sift.model.bundle;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;

/** How an encoder's output becomes one vector per sequence. A property of each model version. */
public enum Pooling {
    /** The last layer's vector at position 0, {@code h_CLS}. The default. */
    CLS,
    /**
     * BERT's pooler output: {@code tanh(W_p · h_CLS + b_p)}, trained on next-sentence prediction.
     */
    POOLER,
    /** Mean of the last layer's vectors over real (unpadded) positions, specials included. */
    MEAN;

    @JsonValue
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Pooling of(String id) {
        for (Pooling pooling : values()) {
            if (pooling.id().equals(id)) {
                return pooling;
            }
        }
        throw new IllegalArgumentException(
                "Unknown pooling '"
                        + id
                        + "'; expected one of "
                        + Arrays.stream(values()).map(Pooling::id).toList());
    }
}
