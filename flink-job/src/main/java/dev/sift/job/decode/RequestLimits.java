package dev.sift.job.decode;

import java.io.Serializable;

/**
 * How large a request may be before it is dead-lettered.
 *
 * @param maxTextBytes UTF-8 bytes of text (both halves of a pair together)
 * @param maxIdLength characters of the id, which every result and header echoes
 */
public record RequestLimits(int maxTextBytes, int maxIdLength) implements Serializable {

    /** The job's defaults. */
    public static final RequestLimits DEFAULTS = new RequestLimits(100_000, 256);

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
