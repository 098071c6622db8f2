package dev.sift.model.bundle;

/**
 * What the manifest of a blended model version records about its n-gram part: a character n-gram
 * TF-IDF logistic regression ({@code NgramClassifier}) whose probabilities are combined with the
 * encoder model's, {@code p ∝ encoder^w · ngrams^(1-w)}, where the trainer chose {@code w} by
 * validation log-loss.
 *
 * @param file the {@code ngrams.bin} inside the bundle ({@code NgramFormat}), listed in the
 *     manifest's files like every other file
 * @param encoderWeight w, in (0, 1): the encoder model's share of the blended log-probabilities
 */
public record NgramBlend(String file, double encoderWeight) {

    /** Whether {@code encoderWeight} leaves both models a share. */
    public static boolean isValidWeight(double encoderWeight) {
        return encoderWeight > 0 && encoderWeight < 1;
    }
}
