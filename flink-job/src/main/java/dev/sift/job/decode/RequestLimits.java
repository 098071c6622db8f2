package dev.sift.job.decode;

import dev.sift.job.SiftOptions;
import java.io.Serializable;

/**
 * How large a request may be before it is dead-lettered.
 *
 * @param maxTextBytes UTF-8 bytes of text (both halves of a pair together)
 * @param maxIdLength characters of the id, which every result and header echoes
 */
public record RequestLimits(int maxTextBytes, int maxIdLength) implements Serializable {

    /** The job's defaults, as {@link SiftOptions} declares them. */
    public static final RequestLimits DEFAULTS =
            new RequestLimits(
                    SiftOptions.MAX_TEXT_BYTES.defaultValue(),
                    SiftOptions.MAX_ID_LENGTH.defaultValue());

    public RequestLimits {
        if (maxTextBytes < 1 || maxIdLength < 1) {
            throw new IllegalArgumentException(
                    "Need maxTextBytes >= 1 and maxIdLength >= 1, got "
                            + maxTextBytes
                            + " and "
                            + maxIdLength);
        }
    }
}
