package dev.sift.model.tokenize;

import java.util.Arrays;

/**
 * One tokenized sequence with its specials: {@code [CLS] a [SEP]} or {@code [CLS] a [SEP] b [SEP]}.
 * {@code typeIds} are the segment ids: 0 for the first part, 1 for the second.
 */
public record TokenizedInput(int[] ids, int[] typeIds) {

    public TokenizedInput {
        if (ids.length != typeIds.length) {
            throw new IllegalArgumentException(
                    ids.length + " token ids but " + typeIds.length + " type ids");
        }
        if (ids.length == 0) {
            throw new IllegalArgumentException("A tokenized input holds at least [CLS] and [SEP]");
        }
    }

    public int length() {
        return ids.length;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TokenizedInput that
                && Arrays.equals(ids, that.ids)
                && Arrays.equals(typeIds, that.typeIds);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(ids) + Arrays.hashCode(typeIds);
    }

    @Override
    public String toString() {
        return "TokenizedInput" + Arrays.toString(ids);
    }
}
