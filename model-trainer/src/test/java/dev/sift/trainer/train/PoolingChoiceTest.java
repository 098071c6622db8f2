package dev.sift.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.model.bundle.Pooling;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PoolingChoiceTest {

    private static final Map<Pooling, Double> POOLER_FITS_BEST = losses(0.0876, 0.0784, 0.1016);

    @Test
    void aHeadOnlyRunKeepsTheLowestValidationLoss() {
        assertThat(Training.choosePooling(POOLER_FITS_BEST, false)).isEqualTo(Pooling.POOLER);
        assertThat(Training.choosePooling(losses(0.09, 0.09, 0.05), false)).isEqualTo(Pooling.MEAN);
    }

    @Test
    void aFineTunedRunReadsClsEvenWhereAnotherHeadFitsBetter() {
        assertThat(Training.choosePooling(POOLER_FITS_BEST, true)).isEqualTo(Pooling.CLS);
    }

    @Test
    void aPoolingAskedForAloneIsKeptWhenFineTuning() {
        assertThat(Training.choosePooling(Map.of(Pooling.POOLER, 0.0784), true))
                .isEqualTo(Pooling.POOLER);
    }

    private static Map<Pooling, Double> losses(double cls, double pooler, double mean) {
        Map<Pooling, Double> losses = new LinkedHashMap<>();
        losses.put(Pooling.CLS, cls);
        losses.put(Pooling.POOLER, pooler);
        losses.put(Pooling.MEAN, mean);
        return losses;
    }
}
