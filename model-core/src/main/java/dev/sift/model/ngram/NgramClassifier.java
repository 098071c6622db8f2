package dev.sift.model.ngram;

import java.util.Arrays;
import java.util.Objects;

/**
 * A character n-gram TF-IDF vectorizer and a logistic regression on its vectors, as LIBLINEAR fits
 * it: the trainer's TF-IDF baseline in a form the job can run without LIBLINEAR. A model version
 * that blends it with its encoder's answer carries one ({@link NgramFormat}), and {@link #blend} is
 * how the two are combined, in the trainer and in the job alike.
 *
 * <p>The weights keep LIBLINEAR's layout, so the probabilities are computed in the same order of
 * operations as its {@code Linear.predictProbability}: per feature (the bias feature last), one
 * weight column for two classes (the decision value of the first class) and one per class otherwise
 * (one-vs-rest, then normalised).
 *
 * <pre>{@code
 * float[] encoder = head.probabilities(vector);
 * float[] both = NgramClassifier.blend(encoder, ngrams.probabilities(text), 0.2);
 * }</pre>
 */
public final class NgramClassifier {

    /** How the two texts of a pair are joined into the one text the n-grams are read from. */
    public static final String PAIR_SEPARATOR = " [SEP] ";

    /**
     * Probabilities are kept at least this far from 0 before their logarithms are blended, so a
     * model that is sure of itself cannot veto the other alone.
     */
    static final double MIN_PROBABILITY = 1e-7;

    private final CharNgramTfidf tfidf;
    private final int labelCount;
    private final int[] classLabels;
    private final double[] weights;
    private final double bias;

    /**
     * @param tfidf the vectorizer
     * @param labelCount labels of the model version, the length of {@link #probabilities}
     * @param classLabels per LIBLINEAR class, its label index in the model version's order
     * @param weights LIBLINEAR's {@code w}: per feature (the bias feature last), one value per
     *     weight column; one column for two classes, {@code classLabels.length} otherwise
     * @param bias the value of the bias feature appended to every vector
     * @throws IllegalArgumentException when the parts do not fit together
     */
    public NgramClassifier(
            CharNgramTfidf tfidf,
            int labelCount,
            int[] classLabels,
            double[] weights,
            double bias) {
        this.tfidf = Objects.requireNonNull(tfidf, "tfidf");
        if (labelCount < 2 || classLabels.length < 2 || classLabels.length > labelCount) {
            throw new IllegalArgumentException(
                    classLabels.length + " classes for " + labelCount + " labels");
        }
        boolean[] seen = new boolean[labelCount];
        for (int label : classLabels) {
            if (label < 0 || label >= labelCount || seen[label]) {
                throw new IllegalArgumentException(
                        "class labels "
                                + Arrays.toString(classLabels)
                                + " are not distinct"
                                + " label indices below "
                                + labelCount);
            }
            seen[label] = true;
        }
        long expected = (long) (tfidf.dimension() + 1) * columns(classLabels.length);
        if (weights.length != expected) {
            throw new IllegalArgumentException(
                    weights.length
                            + " weights where "
                            + (tfidf.dimension() + 1)
                            + " features and "
                            + classLabels.length
                            + " classes need "
                            + expected);
        }
        this.labelCount = labelCount;
        this.classLabels = classLabels.clone();
        this.weights = weights;
        this.bias = bias;
    }

    /** Weight columns LIBLINEAR keeps for this many classes. */
    public static int columns(int classes) {
        return classes == 2 ? 1 : classes;
    }

    /**
     * The most characters the n-gram side reads of an example: its cost grows with the text (every
     * 2- to 5-gram), so a very long text must not cost what a hundred mails do. The job's default
     * limit is 100,000 bytes of text; the SpamAssassin corpus the trainer writes keeps about 20,000
     * characters of a mail, so no mail of it is cut.
     */
    public static final int MAX_TEXT_CHARS = 100_000;

    /**
     * What the n-grams of an example are read from, by the trainer and the job alike: its text, or
     * both texts of a pair, the first {@link #MAX_TEXT_CHARS} characters of it (a surrogate pair is
     * never cut in half).
     */
    public static String text(String text, String textB) {
        String whole = textB == null ? text : text + PAIR_SEPARATOR + textB;
        if (whole.length() <= MAX_TEXT_CHARS) {
            return whole;
        }
        int end =
                Character.isHighSurrogate(whole.charAt(MAX_TEXT_CHARS - 1))
                        ? MAX_TEXT_CHARS - 1
                        : MAX_TEXT_CHARS;
        return whole.substring(0, end);
    }

    /**
     * Per label of the model version, the probability of {@code text}; labels the regression never
     * saw in training get 0.
     */
    public float[] probabilities(String text) {
        CharNgramTfidf.SparseVector x = tfidf.vector(text);
        int columns = columns(classLabels.length);
        double[] decision = new double[columns];
        int[] indices = x.indices();
        double[] values = x.values();
        for (int j = 0; j < indices.length; j++) {
            int offset = indices[j] * columns;
            for (int c = 0; c < columns; c++) {
                decision[c] += weights[offset + c] * values[j];
            }
        }
        int biasOffset = tfidf.dimension() * columns;
        for (int c = 0; c < columns; c++) {
            decision[c] += weights[biasOffset + c] * bias;
        }
        double[] perClass = new double[classLabels.length];
        for (int c = 0; c < columns; c++) {
            perClass[c] = 1 / (1 + Math.exp(-decision[c]));
        }
        if (classLabels.length == 2) {
            perClass[1] = 1 - perClass[0];
        } else {
            double sum = 0;
            for (double p : perClass) {
                sum += p;
            }
            for (int c = 0; c < perClass.length; c++) {
                perClass[c] /= sum;
            }
        }
        float[] probabilities = new float[labelCount];
        for (int c = 0; c < classLabels.length; c++) {
            probabilities[classLabels[c]] = (float) perClass[c];
        }
        return probabilities;
    }

    /**
     * The blended answer: a weighted geometric mean of the two models' probabilities, renormalised
     * ({@code p ∝ encoder^w · ngrams^(1-w)}); for two labels, the weighted mean of their log-odds.
     * {@code encoderWeight} 1 gives the encoder's answer unchanged.
     */
    public static float[] blend(float[] encoder, float[] ngrams, double encoderWeight) {
        if (encoder.length != ngrams.length) {
            throw new IllegalArgumentException(
                    encoder.length + " encoder probabilities against " + ngrams.length);
        }
        double[] logits = new double[encoder.length];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < logits.length; j++) {
            logits[j] =
                    encoderWeight * Math.log(Math.max(encoder[j], MIN_PROBABILITY))
                            + (1 - encoderWeight) * Math.log(Math.max(ngrams[j], MIN_PROBABILITY));
            max = Math.max(max, logits[j]);
        }
        double sum = 0;
        for (int j = 0; j < logits.length; j++) {
            logits[j] = Math.exp(logits[j] - max);
            sum += logits[j];
        }
        float[] blended = new float[logits.length];
        for (int j = 0; j < logits.length; j++) {
            blended[j] = (float) (logits[j] / sum);
        }
        return blended;
    }

    public CharNgramTfidf tfidf() {
        return tfidf;
    }

    public int labelCount() {
        return labelCount;
    }

    /** Per LIBLINEAR class, its label index. */
    public int[] classLabels() {
        return classLabels.clone();
    }

    /** LIBLINEAR's weights, feature-major; see the constructor. Not a copy: do not change. */
    double[] weights() {
        return weights;
    }

    public double bias() {
        return bias;
    }
}
