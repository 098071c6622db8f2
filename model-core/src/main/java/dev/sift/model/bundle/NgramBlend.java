package dev.sift.model.bundle;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What the manifest of a blended model version records about its n-gram part: a character n-gram
 * TF-IDF logistic regression ({@code NgramClassifier}) whose probabilities are combined with the
 * encoder model's, {@code p ∝ encoder^w · ngrams^(1-w)}, where the trainer chose {@code w} by
 * validation log-loss.
 *
 * @param file the {@code ngrams.bin} inside the bundle ({@code NgramFormat}), listed in the
 *     manifest's files like every other file
 *     <p>With a {@code cascadeThreshold} the n-gram model is also the version's first stage: where
 *     its top probability reaches the threshold it answers alone and the encoder never sees the
 *     record; the others get the encoder's (blended) answer. The trainer chose the threshold on
 *     validation data ({@code train --cascade}). A cascade may keep {@code w = 1}: the n-gram model
 *     then only decides which records skip the encoder. A reader that does not know the field
 *     serves the full model on every record: the same answers where the cascade would defer, at the
 *     encoder's price.
 * @param encoderWeight w, in (0, 1): the encoder model's share of the blended log-probabilities; or
 *     1 in a cascade that does not blend
 * @param cascadeThreshold the n-gram model's top probability from which it answers alone, in (0,
 *     1]; null for no cascade (then left out of the JSON, which stays as before)
 */
public record NgramBlend(
        String file,
        double encoderWeight,
        @JsonInclude(JsonInclude.Include.NON_NULL) Double cascadeThreshold) {

    /** A blend without a cascade. */
    public NgramBlend(String file, double encoderWeight) {
        this(file, encoderWeight, null);
    }

    /**
     * What is wrong with this weight and threshold together; null for a blend, a cascade or both.
     */
    public String problem() {
        return problem(encoderWeight, cascadeThreshold);
    }

    /**
     * What is wrong with {@code encoderWeight} and {@code cascadeThreshold} together, or null: a
     * blend leaves both models a share, w in (0, 1); a cascade needs a threshold the n-gram model's
     * top answer can reach, in (0, 1], and may keep w = 1.
     */
    public static String problem(double encoderWeight, Double cascadeThreshold) {
        boolean blends = encoderWeight > 0 && encoderWeight < 1;
        if (cascadeThreshold == null) {
            return blends
                    ? null
                    : "the encoder's share of the blend must be inside (0, 1), not "
                            + encoderWeight;
        }
        boolean reachable = cascadeThreshold > 0 && cascadeThreshold <= 1;
        return reachable && (blends || encoderWeight == 1)
                ? null
                : "a cascade needs a threshold in (0, 1] and an encoder share in (0, 1], not "
                        + cascadeThreshold
                        + " and "
                        + encoderWeight;
    }

    /** Whether the n-gram model answers confident records alone. */
    public boolean cascades() {
        return cascadeThreshold != null;
    }
}
