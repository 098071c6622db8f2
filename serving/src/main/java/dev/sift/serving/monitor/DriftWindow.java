package dev.sift.serving.monitor;

import dev.sift.model.bundle.ConfidenceProfile;

/**
 * What one model version's last {@code capacity} answers looked like, for the job's drift metrics:
 * how sure the version was (the mean top probability, the share under a threshold, and the
 * stability index of the top probability against the version's own test set), which labels it gave,
 * and what its inputs were (tokens per record, the share that filled the version's token limit, the
 * share of {@code [UNK]} tokens).
 *
 * <p>A ring of the last answers, kept as running sums, so a gauge reads in constant time and the
 * figures forget old traffic: a stream that shifts shows in them within one window. Written by the
 * operator's thread and read by metric reporters', so every method holds the window's lock; an
 * answer costs a few additions under it.
 *
 * <pre>{@code
 * DriftWindow drift = new DriftWindow(1000, bundle.confidenceProfile().orElse(null), 2, 0.7);
 * drift.add(0.97f, 1, 54, false, 0);
 * double psi = drift.stabilityIndex();
 * }</pre>
 */
public final class DriftWindow {

    private final int capacity;
    private final ConfidenceProfile reference;
    private final int labels;
    private final double lowConfidence;

    private final float[] topProbabilities;
    private final int[] labelIndexes;
    private final int[] tokens;
    private final boolean[] atLimit;
    private final int[] unknownTokens;
    private final boolean[] hasTokens;
    private int next;
    private int size;

    private double topProbabilitySum;
    private int lowConfidenceCount;
    private final long[] bins = new long[ConfidenceProfile.BINS];
    private final long[] labelCounts;
    private long tokenSum;
    private int tokenRecords;
    private int atLimitCount;
    private long unknownTokenSum;

    /**
     * @param capacity how many of the latest answers the figures cover
     * @param reference the version's test-set profile, or null: then {@link #stabilityIndex} is NaN
     * @param labels the version's number of labels
     * @param lowConfidence the top probability under which an answer counts as unsure
     */
    public DriftWindow(
            int capacity, ConfidenceProfile reference, int labels, double lowConfidence) {
        if (capacity < 1) {
            throw new IllegalArgumentException("A window holds at least 1 answer, not " + capacity);
        }
        if (reference != null && reference.labels() != labels) {
            throw new IllegalArgumentException(
                    "The reference profiles "
                            + reference.labels()
                            + " labels; the version has "
                            + labels);
        }
        this.capacity = capacity;
        this.reference = reference;
        this.labels = labels;
        this.lowConfidence = lowConfidence;
        this.topProbabilities = new float[capacity];
        this.labelIndexes = new int[capacity];
        this.tokens = new int[capacity];
        this.atLimit = new boolean[capacity];
        this.unknownTokens = new int[capacity];
        this.hasTokens = new boolean[capacity];
        this.labelCounts = new long[labels];
    }

    /** Records an answer whose input was not tokenized (the n-gram stage answered it alone). */
    public synchronized void add(float topProbability, int labelIndex) {
        add(topProbability, labelIndex, -1, false, 0);
    }

    /**
     * Records an answer: its top probability and label, and its input's tokens (with specials),
     * whether they filled the version's limit, and how many were {@code [UNK]}; {@code tokenCount}
     * below 0 when the input was not tokenized.
     */
    public synchronized void add(
            float topProbability,
            int labelIndex,
            int tokenCount,
            boolean filledLimit,
            int unknownCount) {
        if (labelIndex < 0 || labelIndex >= labels) {
            throw new IllegalArgumentException(
                    "Label " + labelIndex + " of a version with " + labels + " labels");
        }
        if (size == capacity) {
            forget(next);
        } else {
            size++;
        }
        topProbabilities[next] = topProbability;
        labelIndexes[next] = labelIndex;
        hasTokens[next] = tokenCount >= 0;
        tokens[next] = Math.max(tokenCount, 0);
        atLimit[next] = filledLimit;
        unknownTokens[next] = unknownCount;
        topProbabilitySum += topProbability;
        lowConfidenceCount += topProbability < lowConfidence ? 1 : 0;
        bins[ConfidenceProfile.bin(topProbability, labels)]++;
        labelCounts[labelIndex]++;
        if (hasTokens[next]) {
            tokenSum += tokens[next];
            tokenRecords++;
            atLimitCount += filledLimit ? 1 : 0;
            unknownTokenSum += unknownCount;
        }
        next = (next + 1) % capacity;
    }

    private void forget(int slot) {
        topProbabilitySum -= topProbabilities[slot];
        lowConfidenceCount -= topProbabilities[slot] < lowConfidence ? 1 : 0;
        bins[ConfidenceProfile.bin(topProbabilities[slot], labels)]--;
        labelCounts[labelIndexes[slot]]--;
        if (hasTokens[slot]) {
            tokenSum -= tokens[slot];
            tokenRecords--;
            atLimitCount -= atLimit[slot] ? 1 : 0;
            unknownTokenSum -= unknownTokens[slot];
        }
    }

    /** Answers in the window. */
    public synchronized int size() {
        return size;
    }

    /** The mean top probability; NaN before the first answer. */
    public synchronized double meanTopProbability() {
        return size == 0 ? Double.NaN : topProbabilitySum / size;
    }

    /** The share of answers under the low-confidence threshold, in percent. */
    public synchronized double lowConfidencePct() {
        return size == 0 ? Double.NaN : 100.0 * lowConfidenceCount / size;
    }

    /** The share of answers that gave label {@code labelIndex}, in percent. */
    public synchronized double labelPct(int labelIndex) {
        return size == 0 ? Double.NaN : 100.0 * labelCounts[labelIndex] / size;
    }

    /** Tokens per tokenized input, specials included. */
    public synchronized double meanTokens() {
        return tokenRecords == 0 ? Double.NaN : (double) tokenSum / tokenRecords;
    }

    /** The share of tokenized inputs that filled the version's token limit, in percent. */
    public synchronized double atLengthLimitPct() {
        return tokenRecords == 0 ? Double.NaN : 100.0 * atLimitCount / tokenRecords;
    }

    /** {@code [UNK]} tokens among all tokens of the tokenized inputs, in percent. */
    public synchronized double unknownTokenPct() {
        return tokenSum == 0 ? Double.NaN : 100.0 * unknownTokenSum / tokenSum;
    }

    /**
     * The population stability index of the window's top probabilities against the version's test
     * set ({@link ConfidenceProfile#stabilityIndex}); NaN without a reference or an answer.
     */
    public synchronized double stabilityIndex() {
        return reference == null ? Double.NaN : reference.stabilityIndex(bins);
    }
}
