package dev.sift.trainer.train;

import dev.sift.model.head.ClassificationHead;
import dev.sift.trainer.eval.Evaluation;
import java.util.Arrays;
import java.util.Locale;

/**
 * Chooses where a cascade hands over ({@code train --cascade}): the n-gram model answers alone
 * where its top probability reaches the threshold, the full model (the encoder model, blended where
 * the run blends) answers the rest. The threshold is the lowest at which the n-gram stage makes no
 * validation error the full model does not make, which keeps validation accuracy at least at the
 * full model's: every record the n-gram model takes costs no encoder pass, so the lower the
 * threshold the cheaper the version, as long as it is no less accurate where it was chosen. The
 * test split plays no part.
 *
 * <p>A threshold chosen on a few hundred validation records is only as good as the n-gram model's
 * confidence is honest on the data it will meet: on mail unlike its training data an n-gram model
 * can be sure and wrong. {@code train} reports the share that reached the encoder and the accuracy
 * on the test split beside the full model's, and docs/model-cards/spam.md what the threshold did on
 * a held-out corpus group.
 */
public final class Cascading {

    /**
     * The chosen threshold, the validation accuracy of the cascade and of the full model, and the
     * share of validation records that reached the encoder.
     */
    public record Choice(
            double threshold,
            double validationAccuracy,
            double fullValidationAccuracy,
            double validationEncoderShare) {

        /**
         * Whether there is a cascade: false when the n-gram model is wrong at its highest
         * validation confidence where the full model is right, so no threshold leaves it a record.
         */
        public boolean cascades() {
            return !Double.isNaN(threshold);
        }

        /** One line for the console and the report. */
        public String describe() {
            if (!cascades()) {
                return "none: the n-gram model is wrong where it is surest on a validation record"
                        + " the full model gets right, so every record goes to the encoder";
            }
            return String.format(
                    Locale.ROOT,
                    "the n-gram model answers alone from a top probability of %.4f; on validation"
                            + " %.1f%% reached the encoder, accuracy %.4f (full model %.4f)",
                    threshold,
                    100 * validationEncoderShare,
                    validationAccuracy,
                    fullValidationAccuracy);
        }
    }

    private Cascading() {}

    /**
     * @param full the full model's validation probabilities
     * @param ngrams the n-gram model's, for the same records
     * @param labels the validation labels
     */
    public static Choice choose(float[][] full, float[][] ngrams, int[] labels) {
        if (labels.length == 0) {
            throw new IllegalArgumentException(
                    "--cascade chooses its threshold on validation data, and this run has none:"
                            + " set --validation-fraction above 0");
        }
        // The n-gram stage must add no error of its own: the threshold lies above the confidence
        // of every record the n-gram model gets wrong and the full model right. A looser rule,
        // accuracy no lower in sum, lets one error the n-gram model fixes pay for one it makes;
        // on SpamAssassin that handed 99.5% of validation to the n-gram model and cost a test
        // error, and the trade is worse on data unlike the training data (docs/model-cards).
        double surestError = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < labels.length; i++) {
            boolean ngramWrong = ClassificationHead.argMax(ngrams[i]) != labels[i];
            boolean fullRight = ClassificationHead.argMax(full[i]) == labels[i];
            if (ngramWrong && fullRight) {
                surestError = Math.max(surestError, top(ngrams[i]));
            }
        }
        // Of the confidences above all of those, the lowest at which the cascade's validation
        // log-loss is no worse than the full model's: the n-gram stage must be as well calibrated
        // where it answers, not only right. Without that, where the blend leans on the n-gram model
        // (the two agree on almost every validation record), the n-gram model would take nearly
        // everything on a tie.
        double fullLoss = Evaluation.meanLogLoss(full, labels);
        double floor = surestError;
        double chosen = Double.NaN;
        double[] candidates =
                Arrays.stream(ngrams)
                        .mapToDouble(Cascading::top)
                        .filter(confidence -> confidence > floor)
                        .distinct()
                        .sorted()
                        .toArray();
        for (double candidate : candidates) {
            if (Evaluation.meanLogLoss(cascade(full, ngrams, candidate), labels) <= fullLoss) {
                chosen = candidate;
                break;
            }
        }
        double fullAccuracy = accuracy(full, labels);
        if (Double.isNaN(chosen)) {
            return new Choice(Double.NaN, fullAccuracy, fullAccuracy, 1);
        }
        return new Choice(
                chosen,
                accuracy(cascade(full, ngrams, chosen), labels),
                fullAccuracy,
                encoderShare(ngrams, chosen));
    }

    /** The cascade's answers: the n-gram model's where it reaches {@code threshold}. */
    public static float[][] cascade(float[][] full, float[][] ngrams, double threshold) {
        float[][] answers = new float[full.length][];
        for (int i = 0; i < full.length; i++) {
            answers[i] = top(ngrams[i]) >= threshold ? ngrams[i] : full[i];
        }
        return answers;
    }

    /** The share of records whose n-gram answer falls short of {@code threshold}. */
    public static double encoderShare(float[][] ngrams, double threshold) {
        if (ngrams.length == 0) {
            return 0;
        }
        long deferred = Arrays.stream(ngrams).filter(p -> top(p) < threshold).count();
        return (double) deferred / ngrams.length;
    }

    private static double accuracy(float[][] probabilities, int[] labels) {
        int right = 0;
        for (int i = 0; i < labels.length; i++) {
            right += ClassificationHead.argMax(probabilities[i]) == labels[i] ? 1 : 0;
        }
        return (double) right / labels.length;
    }

    /** Compared in float, as the job compares it: the n-gram model answers in float. */
    private static double top(float[] p) {
        return p[ClassificationHead.argMax(p)];
    }
}
