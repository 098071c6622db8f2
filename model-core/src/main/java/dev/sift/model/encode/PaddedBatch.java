package dev.sift.model.encode;

import dev.sift.model.tokenize.TokenizedInput;
import java.util.List;

/**
 * Token ids, attention mask and segment ids of a batch, row-major {@code (B, T)}, padded with 0 to
 * the batch's own longest sequence {@code T}, not to the encoder's maximum. On a CPU the encoder's
 * cost grows with {@code B·T} (and attention with {@code T²}), so this is the largest lever on
 * throughput that a streaming classifier has.
 */
public final class PaddedBatch {

    private final int size;
    private final int length;
    private final int[] lengths;
    private final int[] ids;
    private final int[] mask;
    private final int[] segments;

    private PaddedBatch(List<TokenizedInput> inputs, int minLength) {
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("A batch holds at least one input");
        }
        this.size = inputs.size();
        this.lengths = new int[size];
        int longest = 0;
        for (int b = 0; b < size; b++) {
            lengths[b] = inputs.get(b).length();
            longest = Math.max(longest, lengths[b]);
        }
        this.length = Math.max(longest, minLength);
        this.ids = new int[size * length];
        this.mask = new int[size * length];
        this.segments = new int[size * length];
        for (int b = 0; b < size; b++) {
            TokenizedInput input = inputs.get(b);
            int row = b * length;
            System.arraycopy(input.ids(), 0, ids, row, lengths[b]);
            System.arraycopy(input.typeIds(), 0, segments, row, lengths[b]);
            java.util.Arrays.fill(mask, row, row + lengths[b], 1);
        }
    }

    public static PaddedBatch of(List<TokenizedInput> inputs) {
        return new PaddedBatch(inputs, 0);
    }

    /**
     * Pads to at least {@code length}: what serving stacks that pad every request to the model's
     * maximum do. Sift uses it only to measure what {@link #of} saves.
     */
    public static PaddedBatch paddedTo(List<TokenizedInput> inputs, int length) {
        return new PaddedBatch(inputs, length);
    }

    /** {@code B}. */
    public int size() {
        return size;
    }

    /** {@code T}: the longest sequence in this batch. */
    public int length() {
        return length;
    }

    /** Real (unpadded) length of row {@code b}. */
    public int length(int b) {
        return lengths[b];
    }

    public int[] ids() {
        return ids;
    }

    public int[] mask() {
        return mask;
    }

    public int[] segments() {
        return segments;
    }

    /** Real tokens over padded slots, in (0, 1]: 1 means no padding at all. */
    public double paddingEfficiency() {
        long real = 0;
        for (int l : lengths) {
            real += l;
        }
        return (double) real / ((long) size * length);
    }
}
