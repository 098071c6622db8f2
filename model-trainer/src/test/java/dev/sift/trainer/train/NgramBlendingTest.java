package dev.sift.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.sift.trainer.eval.Evaluation;
import org.junit.jupiter.api.Test;

class NgramBlendingTest {

    private static final int[] LABELS = {0, 1, 0, 1};

    @Test
    void aModelThatKnowsNothingGetsTheSmallestShare() {
        float[][] unsure = {{0.5f, 0.5f}, {0.5f, 0.5f}, {0.5f, 0.5f}, {0.5f, 0.5f}};
        float[][] right = {{0.9f, 0.1f}, {0.2f, 0.8f}, {0.7f, 0.3f}, {0.1f, 0.9f}};

        NgramBlending.Choice encoderUnsure = NgramBlending.choose(unsure, right, LABELS);
        NgramBlending.Choice ngramsUnsure = NgramBlending.choose(right, unsure, LABELS);

        assertThat(encoderUnsure.encoderWeight()).isEqualTo(0.05);
        assertThat(encoderUnsure.encoderValidationLoss()).isCloseTo(Math.log(2), within(1e-6));
        assertThat(ngramsUnsure.blends()).isFalse();
        assertThat(ngramsUnsure.encoderWeight()).isEqualTo(1);
        assertThat(ngramsUnsure.describe()).startsWith("none:");
    }

    @Test
    void modelsWrongOnDifferentTextsMeetInTheMiddle() {
        // Each is sure and wrong on one text the other gets right.
        float[][] encoder = {{0.95f, 0.05f}, {0.05f, 0.95f}, {0.02f, 0.98f}, {0.1f, 0.9f}};
        float[][] ngrams = {{0.9f, 0.1f}, {0.98f, 0.02f}, {0.9f, 0.1f}, {0.05f, 0.95f}};

        NgramBlending.Choice choice = NgramBlending.choose(encoder, ngrams, LABELS);

        assertThat(choice.encoderWeight()).isBetween(0.3, 0.7);
        assertThat(choice.validationLoss())
                .isLessThan(choice.encoderValidationLoss())
                .isLessThan(choice.ngramValidationLoss());
        float[][] blended = NgramBlending.blend(encoder, ngrams, choice.encoderWeight());
        assertThat(Evaluation.meanLogLoss(blended, LABELS))
                .isCloseTo(choice.validationLoss(), within(1e-12));
    }

    @Test
    void withoutValidationDataItSaysWhatToSet() {
        assertThatThrownBy(() -> NgramBlending.choose(new float[0][], new float[0][], new int[0]))
                .hasMessageContaining("set --validation-fraction above 0");
    }
}
