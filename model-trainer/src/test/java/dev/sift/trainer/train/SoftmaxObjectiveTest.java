package dev.sift.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SoftmaxObjectiveTest {

    /** Central differences in double precision agree with the analytic gradient. */
    @Test
    void gradientMatchesFiniteDifferences() {
        Random random = new Random(3);
        int n = 20;
        int d = 5;
        int k = 3;
        float[][] x = new float[n][d];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                x[i][j] = (float) random.nextGaussian();
            }
            y[i] = random.nextInt(k);
        }
        SoftmaxObjective objective =
                new SoftmaxObjective(x, y, k, new double[] {1.0, 2.5, 0.5}, 0.3);
        double[] params = new double[objective.parameterCount()];
        for (int p = 0; p < params.length; p++) {
            params[p] = random.nextGaussian() * 0.5;
        }

        double[] analytic = objective.gradient(params);
        double h = 1e-6;
        for (int p = 0; p < params.length; p++) {
            double[] plus = params.clone();
            double[] minus = params.clone();
            plus[p] += h;
            minus[p] -= h;
            double numeric = (objective.loss(plus) - objective.loss(minus)) / (2 * h);
            assertThat(analytic[p])
                    .as("parameter %d", p)
                    .isCloseTo(numeric, org.assertj.core.api.Assertions.within(1e-6));
        }
    }
}
