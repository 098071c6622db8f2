package dev.sift.serving.request;

import java.io.Serializable;

/**
 * How large a request may be before it is dead-lettered. Every part of a request that a result
 * echoes is bounded, so no accepted request can make a result too large for Kafka:
 *
 * <pre>{@code
 * RequestLimits limits = new RequestLimits(10_000, 256, 16 * 1024, 16);
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

    /** The defaults, which the job's options ({@code sift.requests.*}) declare as theirs. */
    public static final RequestLimits DEFAULTS = new RequestLimits(100_000, 256, 16 * 1024, 16);

    public RequestLimits {
        requireAtLeast(1, maxTextBytes, "maxTextBytes");
        requireAtLeast(1, maxIdLength, "maxIdLength");
        requireAtLeast(0, maxAttributesBytes, "maxAttributesBytes");
        requireAtLeast(1, maxModels, "maxModels");
    }

    private static void requireAtLeast(int least, int value, String limit) {
        if (value < least) {
            throw new IllegalArgumentException(
                    "The request limit " + limit + " must be at least " + least + ", not " + value);
        }
    }
}
