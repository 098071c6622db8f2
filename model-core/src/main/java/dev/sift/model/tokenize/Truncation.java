package dev.sift.model.tokenize;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * Which tokens of a single text longer than the model's length BERT reads. A property of each model
 * version, applied alike in training and in the job.
 *
 * <ul>
 *   <li>{@link Strategy#HEAD}: the first tokens, what every model did before this existed.
 *   <li>{@link Strategy#HEAD_TAIL}: the first {@code headTokens} and, for the rest of the length,
 *       the last ones. Sun et al. ("How to Fine-Tune BERT for Text Classification?", 2019) found
 *       head-and-tail better than the head alone and than pooled windows on long reviews, at the
 *       cost of one pass; a mail ends in a signature, a disclaimer or an unsubscribe link that the
 *       head never reaches.
 * </ul>
 *
 * <p>A text that fits is read whole under both. Sentence pairs are always cut longest-first from
 * the end of the longer part, as before: which end of which part matters is task-specific.
 *
 * <p>Written as {@code head} or {@code head-tail:N}, in manifests and on the command line.
 *
 * @param strategy which end survives
 * @param headTokens for {@link Strategy#HEAD_TAIL}, the tokens (specials not counted) kept from the
 *     start; 0 for {@link Strategy#HEAD}
 */
public record Truncation(Strategy strategy, int headTokens) {

    /** The first tokens only; the default. */
    public static final Truncation HEAD = new Truncation(Strategy.HEAD, 0);

    /** Which end of a long text survives. */
    public enum Strategy {
        HEAD,
        HEAD_TAIL;

        public String id() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    public Truncation {
        if (strategy == null) {
            throw new IllegalArgumentException("A truncation needs a strategy");
        }
        if (strategy == Strategy.HEAD && headTokens != 0) {
            throw new IllegalArgumentException("'head' keeps no separate head count");
        }
        if (strategy == Strategy.HEAD_TAIL && headTokens < 1) {
            throw new IllegalArgumentException(
                    "head-tail needs at least 1 head token, got " + headTokens);
        }
    }

    public static Truncation headTail(int headTokens) {
        return new Truncation(Strategy.HEAD_TAIL, headTokens);
    }

    public boolean isHead() {
        return strategy == Strategy.HEAD;
    }

    /** {@code head} or {@code head-tail:N}: the form manifests and the command line use. */
    @JsonValue
    public String id() {
        return isHead() ? strategy.id() : strategy.id() + ":" + headTokens;
    }

    /** Parses {@link #id()}; the message says what would have been accepted. */
    @JsonCreator
    public static Truncation parse(String id) {
        if (Strategy.HEAD.id().equals(id)) {
            return HEAD;
        }
        String prefix = Strategy.HEAD_TAIL.id() + ":";
        if (id != null && id.startsWith(prefix)) {
            try {
                int headTokens = Integer.parseInt(id.substring(prefix.length()));
                if (headTokens >= 1) {
                    return headTail(headTokens);
                }
            } catch (NumberFormatException e) {
                // falls through to the message below
            }
        }
        throw new IllegalArgumentException(
                "Unknown truncation '"
                        + id
                        + "'; expected 'head' or 'head-tail:N' (N tokens from the start, N >= 1;"
                        + " strategies: "
                        + Arrays.stream(Strategy.values()).map(Strategy::id).toList()
                        + ")");
    }

    /**
     * Refuses a head count that leaves no room for the tail within {@code maxSeqLen} tokens ({@code
     * [CLS]} and {@code [SEP]} included).
     */
    public void checkFits(int maxSeqLen) {
        if (!isHead() && headTokens > maxSeqLen - 3) {
            throw new IllegalArgumentException(
                    id()
                            + " keeps "
                            + headTokens
                            + " head tokens, leaving no tail within "
                            + maxSeqLen
                            + " tokens ([CLS] and [SEP] included); use at most "
                            + (maxSeqLen - 3));
        }
    }

    /**
     * The positions of an untruncated {@code [CLS] text [SEP]} encoding of {@code length} tokens
     * that survive: {@code [CLS]}, the first {@code headTokens} tokens of the text, then as many of
     * its last ones as fit before {@code [SEP]}. Every position when the text fits.
     */
    int[] keptPositions(int length, int maxSeqLen) {
        if (length <= maxSeqLen) {
            return IntStream.range(0, length).toArray();
        }
        int tailStart = length - 1 - (maxSeqLen - 2 - headTokens);
        return IntStream.concat(
                        IntStream.rangeClosed(0, headTokens), IntStream.range(tailStart, length))
                .toArray();
    }

    @Override
    public String toString() {
        return id();
    }
}
