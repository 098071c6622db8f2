package dev.sift.model.ngram;

import java.util.List;
import java.util.Random;

/** N-gram classifiers for tests: a vocabulary fitted on a few texts and random weights. */
public final class TestNgrams {

    public static final List<String> TEXTS =
            List.of(
                    "win a free cruise now",
                    "free money, call now",
                    "lunch with the team tomorrow",
                    "the team meeting moved to tomorrow");

    private TestNgrams() {}

    /**
     * A classifier for {@code labels} labels (LIBLINEAR's one column for 2, one per class else).
     */
    public static NgramClassifier random(int labels, long seed) {
        CharNgramTfidf tfidf = CharNgramTfidf.fit(TEXTS);
        Random random = new Random(seed);
        double[] weights = new double[(tfidf.dimension() + 1) * NgramClassifier.columns(labels)];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = random.nextGaussian();
        }
        int[] classLabels = new int[labels];
        for (int c = 0; c < labels; c++) {
            classLabels[c] = labels - 1 - c; // LIBLINEAR orders classes as it first met them
        }
        return new NgramClassifier(tfidf, labels, classLabels, weights, 1);
    }
}
