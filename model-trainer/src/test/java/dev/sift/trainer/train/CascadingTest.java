package dev.sift.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Where a cascade hands over, chosen on validation data. */
class CascadingTest {

    private static final float[] HAM_SURE = {0.97f, 0.03f};
    private static final float[] SPAM_SURE = {0.02f, 0.98f};

    @Test
    void theThresholdLiesAboveTheSurestNgramErrorTheFullModelGetsRight() {
        // Record 2: the n-gram model says spam at 0.9 and is wrong; the full model is right.
        float[][] ngrams = {HAM_SURE, SPAM_SURE, {0.1f, 0.9f}, {0.2f, 0.8f}, {0.05f, 0.95f}};
        float[][] full = {HAM_SURE, SPAM_SURE, HAM_SURE, SPAM_SURE, {0.05f, 0.95f}};
        int[] labels = {0, 1, 0, 1, 1};

        Cascading.Choice choice = Cascading.choose(full, ngrams, labels);

        assertThat(choice.threshold()).isEqualTo(0.95f);
        assertThat(choice.validationAccuracy()).isEqualTo(1.0);
        // 0.9 and 0.8 fall short: two of five reach the encoder.
        assertThat(choice.validationEncoderShare()).isCloseTo(0.4, within(1e-9));
        assertThat(Cascading.cascade(full, ngrams, choice.threshold())[2]).isEqualTo(HAM_SURE);
    }

    @Test
    void theNgramStageMustBeNoWorseCalibratedWhereItAnswers() {
        // Both right everywhere, but the n-gram model is much less sure on record 1: answering
        // it alone would raise validation log-loss, so the threshold stays above 0.6.
        float[][] ngrams = {{0.99f, 0.01f}, {0.4f, 0.6f}, {0.01f, 0.99f}};
        float[][] full = {{0.99f, 0.01f}, {0.01f, 0.99f}, {0.01f, 0.99f}};
        int[] labels = {0, 1, 1};

        Cascading.Choice choice = Cascading.choose(full, ngrams, labels);

        assertThat(choice.threshold()).isEqualTo(0.99f);
        assertThat(choice.validationEncoderShare()).isCloseTo(1.0 / 3, within(1e-9));
    }

    @Test
    void aLowerLogLossDoesNotBuyAnNgramErrorTheFullModelDoesNotMake() {
        // The n-gram model is far better calibrated on four records and wrong on the first, at
        // 0.55: in sum its log-loss is lower from 0.55 up, but that threshold would add an error.
        float[] sureSpam = {0.001f, 0.999f};
        float[][] ngrams = {{0.45f, 0.55f}, sureSpam, sureSpam, sureSpam, sureSpam};
        float[] hesitantSpam = {0.4f, 0.6f};
        float[][] full = {{0.6f, 0.4f}, hesitantSpam, hesitantSpam, hesitantSpam, hesitantSpam};
        int[] labels = {0, 1, 1, 1, 1};

        Cascading.Choice choice = Cascading.choose(full, ngrams, labels);

        assertThat(choice.threshold()).isEqualTo(0.999f);
        assertThat(choice.validationAccuracy()).isEqualTo(1.0);
    }

    @Test
    void noCascadeWhenTheNgramModelIsWrongWhereItIsSurest() {
        float[][] ngrams = {{0.01f, 0.99f}, {0.1f, 0.9f}};
        float[][] full = {HAM_SURE, SPAM_SURE};
        int[] labels = {0, 1};

        Cascading.Choice choice = Cascading.choose(full, ngrams, labels);

        assertThat(choice.cascades()).isFalse();
        assertThat(choice.validationEncoderShare()).isEqualTo(1.0);
        assertThat(choice.describe()).startsWith("none");
    }
}
