package dev.sift.model.encode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.sift.model.encode.PassCost.Sample;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fit behind batch calibration, fed synthetic timings. */
class PassCostTest {

    @Test
    void recoversFixedAndPerTokenCostFromTwoShapes() {
        // 46 ms + 0.55 ms per token: BERT-base on 2 cores.
        PassCost cost = PassCost.fit(List.of(new Sample(16, 54.8), new Sample(512, 327.6)));

        assertThat(cost.fixedMillis()).isCloseTo(46, within(1e-9));
        assertThat(cost.millisPerToken()).isCloseTo(0.55, within(1e-9));
        assertThat(cost.overheadTokens()).isEqualTo(84);
    }

    @Test
    void readsTheFastestPassOfEachShapeSoAStallElsewhereDoesNotCount() {
        PassCost cost =
                PassCost.fit(
                        List.of(
                                new Sample(16, 54.8),
                                new Sample(512, 900.0), // another process took the cores
                                new Sample(16, 70.0),
                                new Sample(512, 327.6),
                                new Sample(512, 330.0)));

        assertThat(cost.overheadTokens()).isEqualTo(84);
    }

    @Test
    void aCheapPerTokenDeviceGetsALargeOverhead() {
        // A GPU-like profile: 5 ms per pass, nearly free tokens, so fewer passes win.
        PassCost cost = PassCost.fit(List.of(new Sample(16, 5.016), new Sample(512, 5.512)));

        assertThat(cost.overheadTokens()).isEqualTo(5000);
    }

    @Test
    void timingsWithoutACostPerTokenMeanAsFewPassesAsPossible() {
        PassCost cost = PassCost.fit(List.of(new Sample(16, 0.53), new Sample(512, 0.52)));

        assertThat(cost.fixedMillis()).isCloseTo(0.525, within(1e-9));
        assertThat(cost.overheadTokens()).isEqualTo(PassCost.MAX_OVERHEAD_TOKENS);
    }

    @Test
    void needsTwoShapes() {
        assertThatThrownBy(() -> PassCost.fit(List.of(new Sample(16, 3), new Sample(16, 2))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("two token counts");
    }

    @Test
    void aNegativeInterceptMeansNoFixedCost() {
        PassCost cost = PassCost.fit(List.of(new Sample(10, 1), new Sample(20, 3)));

        assertThat(cost.fixedMillis()).isZero();
        assertThat(cost.overheadTokens()).isZero();
    }
}
