package dev.sift.model.bundle;

import java.util.Arrays;

/**
 * How sure a model version was on its own test set: a histogram of its top probability (the
 * probability of the label it answers), in {@link #BINS} equal bins from {@code 1 / labels} (a
 * model cannot be less sure than that) to 1. The trainer writes it as {@code confidence.json} into
 * the run and the published version; the job compares the top probabilities it sees on live traffic
 * against it ({@link #stabilityIndex}), so a version says itself when the records it answers stop
 * looking like the ones it was tested on.
 *
 * @param labels the number of labels, at least 2
 * @param counts test records per bin, {@link #BINS} of them
 */
public record ConfidenceProfile(int labels, long[] counts) {

    /** The file in a run folder and a version's bundle. */
    public static final String FILE_NAME = "confidence.json";

    public static final int BINS = 10;

    /**
     * The share floor of the stability index: an empty bin counts as holding this share, so one
     * record in a bin the test set never reached adds a finite amount, not infinity.
     */
    private static final double FLOOR = 1e-3;

    public ConfidenceProfile {
        if (labels < 2) {
            throw new IllegalArgumentException("A model has at least 2 labels, not " + labels);
        }
        if (counts == null || counts.length != BINS) {
            throw new IllegalArgumentException(
                    "A confidence profile has "
                            + BINS
                            + " bins, not "
                            + (counts == null ? 0 : counts.length));
        }
        if (Arrays.stream(counts).anyMatch(count -> count < 0)
                || Arrays.stream(counts).sum() == 0) {
            throw new IllegalArgumentException(
                    "Bin counts must be non-negative with at least one record: "
                            + Arrays.toString(counts));
        }
        counts = counts.clone();
    }

    /** The profile of {@code probabilities}, one row per test record. */
    public static ConfidenceProfile of(float[][] probabilities) {
        if (probabilities.length == 0) {
            throw new IllegalArgumentException("No probabilities to profile");
        }
        int labels = probabilities[0].length;
        long[] counts = new long[BINS];
        for (float[] row : probabilities) {
            counts[bin(top(row), labels)]++;
        }
        return new ConfidenceProfile(labels, counts);
    }

    /** The largest of {@code probabilities}. */
    public static float top(float[] probabilities) {
        float top = 0;
        for (float p : probabilities) {
            top = Math.max(top, p);
        }
        return top;
    }

    /** The bin of a top probability among {@code labels} labels; values out of range clamp. */
    public static int bin(double topProbability, int labels) {
        double low = 1.0 / labels;
        int bin = (int) Math.floor((topProbability - low) / (1 - low) * BINS);
        return Math.max(0, Math.min(BINS - 1, bin));
    }

    /** Each bin's share of the records. */
    public double[] shares() {
        return shares(counts);
    }

    static double[] shares(long[] counts) {
        double total = Arrays.stream(counts).sum();
        double[] shares = new double[counts.length];
        for (int i = 0; i < counts.length; i++) {
            shares[i] = total == 0 ? 0 : counts[i] / total;
        }
        return shares;
    }

    /**
     * The population stability index of {@code live} (counts per bin, as {@link #bin} assigns them)
     * against this profile: {@code sum((a - e) * ln(a / e))} over the bins' shares, each floored at
     * 0.001. The usual reading: under 0.1 the two are alike, 0.1 to 0.25 they have moved, above
     * 0.25 they differ. NaN when {@code live} holds no record.
     */
    public double stabilityIndex(long[] live) {
        if (live.length != BINS) {
            throw new IllegalArgumentException("Live counts need " + BINS + " bins");
        }
        if (Arrays.stream(live).sum() == 0) {
            return Double.NaN;
        }
        double[] expected = shares();
        double[] actual = shares(live);
        double index = 0;
        for (int i = 0; i < BINS; i++) {
            double e = Math.max(expected[i], FLOOR);
            double a = Math.max(actual[i], FLOOR);
            index += (a - e) * Math.log(a / e);
        }
        return index;
    }

    @Override
    public long[] counts() {
        return counts.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ConfidenceProfile that
                && labels == that.labels
                && Arrays.equals(counts, that.counts);
    }

    @Override
    public int hashCode() {
        return 31 * labels + Arrays.hashCode(counts);
    }

    @Override
    public String toString() {
        return "ConfidenceProfile[labels=" + labels + ", counts=" + Arrays.toString(counts) + "]";
    }
}
