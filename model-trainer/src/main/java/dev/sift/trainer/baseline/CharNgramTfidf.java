package dev.sift.trainer.baseline;

import de.bwaldvogel.liblinear.Feature;
import de.bwaldvogel.liblinear.FeatureNode;
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
 * <p>The vectors come out as LIBLINEAR features (1-based, ascending indices).
 */
final class CharNgramTfidf {

    static final int MIN_N = 2;
    static final int MAX_N = 5;
    static final int MIN_DOCUMENT_FREQUENCY = 2;

    private final Map<String, Integer> vocabulary;
    private final double[] idf;

    private CharNgramTfidf(Map<String, Integer> vocabulary, double[] idf) {
        this.vocabulary = vocabulary;
        this.idf = idf;
    }

    /** Learns the vocabulary and document frequencies from the training texts only. */
    static CharNgramTfidf fit(List<String> texts) {
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
        Map<String, Integer> vocabulary = new HashMap<>(kept.length * 2);
        double[] idf = new double[kept.length];
        for (int i = 0; i < kept.length; i++) {
            vocabulary.put(kept[i], i);
            int df = documentFrequency.get(kept[i])[0];
            idf[i] = Math.log((1.0 + texts.size()) / (1.0 + df)) + 1;
        }
        return new CharNgramTfidf(vocabulary, idf);
    }

    /** Number of features, i.e. kept n-grams. */
    int dimension() {
        return idf.length;
    }

    /** The text's unit-length TF-IDF vector; n-grams outside the vocabulary are ignored. */
    Feature[] vector(String text) {
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
        Feature[] features = new Feature[n];
        for (int j = 0; j < n; j++) {
            features[j] = new FeatureNode(index[order[j]] + 1, value[order[j]] / norm);
        }
        return features;
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
