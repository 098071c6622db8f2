package dev.sift.job.decode;

import dev.sift.job.SiftOptions;
import java.io.Serializable;

/**
 * How large a request may be before it is dead-lettered. Every part of a request that a result
 * echoes is bounded, so no accepted request can make a result too large for Kafka:
 *
 * <pre>{@code
 * RequestLimits limits = RequestLimits.DEFAULTS.withMaxTextBytes(10_000);
 * }</pre>
 *
 * @param maxTextBytes UTF-8 bytes of text (both halves of a pair together)
 * @param maxIdLength characters of the id, which every result and header echoes
 * @param maxAttributesBytes UTF-8 bytes of the attributes' names and values together, which every
 *     result echoes
 * @param maxModels how many models one request may name
 */
public record RequestLimits(
        int maxTextBytes, int maxIdLength, int maxAttributesBytes, int maxModels)
        implements Serializable {

    /**
     * The longest model name a request may give: a registry folder name, and quoted by the reason
     * of an {@code UNKNOWN_MODEL} dead letter.
     */
    public static final int MAX_MODEL_NAME_LENGTH = 255;

    /** The job's defaults, as {@link SiftOptions} declares them. */
    public static final RequestLimits DEFAULTS =
            new RequestLimits(
                    SiftOptions.MAX_TEXT_BYTES.defaultValue(),
                    SiftOptions.MAX_ID_LENGTH.defaultValue(),
                    SiftOptions.MAX_ATTRIBUTES_BYTES.defaultValue(),
                    SiftOptions.MAX_MODELS.defaultValue());

    public RequestLimits {
        requireAtLeast(1, maxTextBytes, SiftOptions.MAX_TEXT_BYTES.key());
        requireAtLeast(1, maxIdLength, SiftOptions.MAX_ID_LENGTH.key());
        requireAtLeast(0, maxAttributesBytes, SiftOptions.MAX_ATTRIBUTES_BYTES.key());
        requireAtLeast(1, maxModels, SiftOptions.MAX_MODELS.key());
    }

    public RequestLimits withMaxTextBytes(int bytes) {
        return new RequestLimits(bytes, maxIdLength, maxAttributesBytes, maxModels);
    }

    public RequestLimits withMaxIdLength(int length) {
        return new RequestLimits(maxTextBytes, length, maxAttributesBytes, maxModels);
    }

    public RequestLimits withMaxAttributesBytes(int bytes) {
        return new RequestLimits(maxTextBytes, maxIdLength, bytes, maxModels);
    }

    public RequestLimits withMaxModels(int models) {
        return new RequestLimits(maxTextBytes, maxIdLength, maxAttributesBytes, models);
    }

    private static void requireAtLeast(int least, int value, String option) {
        if (value < least) {
            throw new IllegalArgumentException(
                    option + " must be at least " + least + ", not " + value);
        }
    }
}
