package dev.sift.trainer.train;

import dev.sift.model.ngram.NgramClassifier;
import dev.sift.trainer.eval.Evaluation;
import java.util.Locale;

/**
 * Chooses how much of the TF-IDF baseline to blend into the run's model ({@code train
 * --blend-tfidf}): the encoder model's share {@code w} of {@link NgramClassifier#blend}, by
 * validation log-loss over {@link #WEIGHTS}. The test split plays no part. {@code w = 1} is the
 * encoder model alone, and wins ties, so a baseline that does not lower validation loss is not
 * blended in.
 *
 * <p>The two read different things: BERT the first {@code max_seq_len} tokens (or the head and
 * tail) in context, the n-grams every character of the whole text without order. Where their
 * mistakes differ, the blend makes fewer than either (SpamAssassin: docs/experiments.md).
 */
public final class NgramBlending {

    /** The shares tried, the encoder model alone first: 1, 0.95, ..., 0.05. */
    static final double[] WEIGHTS = weights();

    /**
     * The chosen share and the validation log-loss of the blend, of the encoder model alone and of
     * the n-gram model alone.
     */
    public record Choice(
            double encoderWeight,
            double validationLoss,
            double encoderValidationLoss,
            double ngramValidationLoss) {

        /** Whether the n-gram model gets a share, i.e. the run's model is a blend. */
        public boolean blends() {
            return encoderWeight < 1;
        }

        /** One line for the console and the report. */
        public String describe() {
            return blends()
                    ? String.format(
                            Locale.ROOT,
                            "encoder %.2f, TF-IDF %.2f (validation log-loss %.4f; encoder alone"
                                    + " %.4f, TF-IDF alone %.4f)",
                            encoderWeight,
                            1 - encoderWeight,
                            validationLoss,
                            encoderValidationLoss,
                            ngramValidationLoss)
                    : String.format(
                            Locale.ROOT,
                            "none: no share of TF-IDF lowers validation log-loss below the"
                                    + " encoder's alone (%.4f; TF-IDF alone %.4f)",
                            encoderValidationLoss,
                            ngramValidationLoss);
        }
    }

    private NgramBlending() {}

    /**
     * @param encoder the encoder model's validation probabilities
     * @param ngrams the n-gram model's, for the same texts
     * @param labels the validation labels
     */
    public static Choice choose(float[][] encoder, float[][] ngrams, int[] labels) {
        if (labels.length == 0) {
            throw new IllegalArgumentException(
                    "--blend-tfidf chooses the blend on validation data, and this run has none:"
                            + " set --validation-fraction above 0");
        }
        double bestWeight = WEIGHTS[0];
        double bestLoss = Evaluation.meanLogLoss(blend(encoder, ngrams, bestWeight), labels);
        for (int i = 1; i < WEIGHTS.length; i++) {
            double loss = Evaluation.meanLogLoss(blend(encoder, ngrams, WEIGHTS[i]), labels);
            if (loss < bestLoss) {
                bestLoss = loss;
                bestWeight = WEIGHTS[i];
            }
        }
        return new Choice(
                bestWeight,
                bestLoss,
                Evaluation.meanLogLoss(encoder, labels),
                Evaluation.meanLogLoss(ngrams, labels));
    }

    /** Each text's blend, as the job computes it; {@code encoderWeight} 1 returns the encoder's. */
    public static float[][] blend(float[][] encoder, float[][] ngrams, double encoderWeight) {
        if (encoderWeight >= 1) {
            return encoder;
        }
        float[][] blended = new float[encoder.length][];
        for (int i = 0; i < blended.length; i++) {
            blended[i] = NgramClassifier.blend(encoder[i], ngrams[i], encoderWeight);
        }
        return blended;
    }

    private static double[] weights() {
        double[] weights = new double[20];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (20 - i) / 20.0;
        }
        return weights;
    }
}
