package dev.sift.model.ngram;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * TF-IDF over character 2-5-grams inside word boundaries (each whitespace-separated word is padded
 * with one space on either side, so n-grams never span two words: scikit-learn's {@code char_wb}
 * analyzer), lower-cased, with sublinear term frequency ({@code 1 + ln tf}), smoothed inverse
 * document frequency ({@code ln((1 + N) / (1 + df)) + 1}) and each text's vector scaled to unit L2
 * norm: the settings of the strongest TF-IDF baseline measured on SpamAssassin. N-grams seen in
 * fewer than {@link #MIN_DOCUMENT_FREQUENCY} training texts are dropped, which bounds the
 * vocabulary on long mail without losing anything a linear model could learn from.
 *
 * <p>The trainer fits it; a model version that blends it in carries its vocabulary and weights
 * ({@link NgramFormat}), and the job computes the same vectors from them.
 */
public final class CharNgramTfidf {

    public static final int MIN_N = 2;
    public static final int MAX_N = 5;
    static final int MIN_DOCUMENT_FREQUENCY = 2;

    /** A text's vector: 0-based feature indices in ascending order, and their values. */
    public record SparseVector(int[] indices, double[] values) {}

    private final String[] ngrams;
    private final Map<String, Integer> vocabulary;
    private final double[] idf;

    /**
     * A fitted vectorizer from its parts: the kept n-grams in index order and each one's inverse
     * document frequency.
     *
     * @throws IllegalArgumentException when the lengths differ or an n-gram repeats
     */
    public CharNgramTfidf(String[] ngrams, double[] idf) {
        if (ngrams.length != idf.length) {
            throw new IllegalArgumentException(
                    ngrams.length + " n-grams but " + idf.length + " idf values");
        }
        Map<String, Integer> vocabulary = new HashMap<>(ngrams.length * 2);
        for (int i = 0; i < ngrams.length; i++) {
            if (vocabulary.put(ngrams[i], i) != null) {
                throw new IllegalArgumentException("n-gram '" + ngrams[i] + "' appears twice");
            }
        }
        this.ngrams = ngrams;
        this.vocabulary = vocabulary;
        this.idf = idf;
    }

    /** Learns the vocabulary and document frequencies from the training texts only. */
    public static CharNgramTfidf fit(List<String> texts) {
        Map<String, int[]> documentFrequency = new HashMap<>();
        for (String text : texts) {
            for (String ngram : counts(text).keySet()) {
                documentFrequency.computeIfAbsent(ngram, g -> new int[1])[0]++;
            }
        }
        // Indices in sorted n-gram order, so a run does not depend on hash iteration order.
        String[] kept =
                documentFrequency.entrySet().stream()
                        .filter(e -> e.getValue()[0] >= MIN_DOCUMENT_FREQUENCY)
                        .map(Map.Entry::getKey)
                        .sorted()
                        .toArray(String[]::new);
        double[] idf = new double[kept.length];
        for (int i = 0; i < kept.length; i++) {
            int df = documentFrequency.get(kept[i])[0];
            idf[i] = Math.log((1.0 + texts.size()) / (1.0 + df)) + 1;
        }
        return new CharNgramTfidf(kept, idf);
    }

    /** Number of features, i.e. kept n-grams. */
    public int dimension() {
        return idf.length;
    }

    /** The n-gram of feature {@code index}. */
    public String ngram(int index) {
        return ngrams[index];
    }

    /** The inverse document frequency of feature {@code index}. */
    public double idf(int index) {
        return idf[index];
    }

    /** The text's unit-length TF-IDF vector; n-grams outside the vocabulary are ignored. */
    public SparseVector vector(String text) {
        Map<String, int[]> counts = counts(text);
        int[] index = new int[counts.size()];
        double[] value = new double[counts.size()];
        int n = 0;
        for (Map.Entry<String, int[]> entry : counts.entrySet()) {
            Integer i = vocabulary.get(entry.getKey());
            if (i != null) {
                index[n] = i;
                value[n] = (1 + Math.log(entry.getValue()[0])) * idf[i];
                n++;
            }
        }
        double norm = 0;
        for (int j = 0; j < n; j++) {
            norm += value[j] * value[j];
        }
        norm = Math.sqrt(norm);
        Integer[] order = new Integer[n];
        for (int j = 0; j < n; j++) {
            order[j] = j;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(index[a], index[b]));
        int[] sortedIndex = new int[n];
        double[] sortedValue = new double[n];
        for (int j = 0; j < n; j++) {
            sortedIndex[j] = index[order[j]];
            sortedValue[j] = value[order[j]] / norm;
        }
        return new SparseVector(sortedIndex, sortedValue);
    }

    private static Map<String, int[]> counts(String text) {
        Map<String, int[]> counts = new HashMap<>();
        for (String word : text.toLowerCase(Locale.ROOT).split("\\s+")) {
            if (word.isEmpty()) {
                continue;
            }
            String padded = " " + word + " ";
            for (int n = MIN_N; n <= Math.min(MAX_N, padded.length()); n++) {
                for (int start = 0; start + n <= padded.length(); start++) {
                    counts.computeIfAbsent(padded.substring(start, start + n), g -> new int[1])[
                            0]++;
                }
            }
        }
        return counts;
    }
}
