package dev.sift.trainer.train;

/**
 * Weighted cross-entropy of a linear softmax classifier with L2 on the weights (not the bias):
 *
 * <pre>
 * L(W, b) = Σ_n w_{y_n} · −log softmax(x_n·W + b)_{y_n} / Σ_n w_{y_n}  +  (λ/2)·‖W‖²
 * ∂L/∂z_n = w_{y_n} · (p_n − e_{y_n}) / Σ_n w_{y_n},  ∂L/∂W = Xᵀ·∂L/∂Z + λW,  ∂L/∂b = Σ_n ∂L/∂z_n
 * </pre>
 *
 * Parameters are packed as {@code W} row-major ({@code d×k}) followed by {@code b} ({@code k}).
 */
public final class SoftmaxObjective {

    private final float[][] x;
    private final int[] y;
    private final double[] classWeights;
    private final int k;
    private final double l2;

    public SoftmaxObjective(float[][] x, int[] y, int k, double[] classWeights, double l2) {
        this.x = x;
        this.y = y;
        this.k = k;
        this.classWeights = classWeights;
        this.l2 = l2;
    }

    public int parameterCount() {
        return x[0].length * k + k;
    }

    /** Loss over rows {@code [from, to)} of {@code order}; gradient added into {@code grad}. */
    double lossAndGradient(double[] params, int[] order, int from, int to, double[] grad) {
        int d = x[0].length;
        int biasOffset = d * k;
        double[] z = new double[k];
        double weightSum = 0;
        for (int r = from; r < to; r++) {
            weightSum += classWeights[y[order[r]]];
        }
        double loss = 0;
        for (int r = from; r < to; r++) {
            int n = order[r];
            float[] xn = x[n];
            logits(params, xn, z);
            double max = Double.NEGATIVE_INFINITY;
            for (double v : z) {
                max = Math.max(max, v);
            }
            double norm = 0;
            for (int j = 0; j < k; j++) {
                z[j] = Math.exp(z[j] - max);
                norm += z[j];
            }
            double w = classWeights[y[n]] / weightSum;
            loss -= w * Math.log(Math.max(z[y[n]] / norm, 1e-300));
            if (grad != null) {
                for (int j = 0; j < k; j++) {
                    double dz = w * (z[j] / norm - (j == y[n] ? 1 : 0));
                    grad[biasOffset + j] += dz;
                    for (int i = 0; i < d; i++) {
                        grad[i * k + j] += xn[i] * dz;
                    }
                }
            }
        }
        double squares = 0;
        for (int p = 0; p < biasOffset; p++) {
            squares += params[p] * params[p];
            if (grad != null) {
                grad[p] += l2 * params[p];
            }
        }
        return loss + 0.5 * l2 * squares;
    }

    /** Full-data loss. */
    public double loss(double[] params) {
        return lossAndGradient(params, identity(), 0, y.length, null);
    }

    /** Full-data gradient. */
    public double[] gradient(double[] params) {
        double[] grad = new double[params.length];
        lossAndGradient(params, identity(), 0, y.length, grad);
        return grad;
    }

    void logits(double[] params, float[] xn, double[] z) {
        int d = xn.length;
        for (int j = 0; j < k; j++) {
            z[j] = params[d * k + j];
        }
        for (int i = 0; i < d; i++) {
            double xi = xn[i];
            int row = i * k;
            for (int j = 0; j < k; j++) {
                z[j] += xi * params[row + j];
            }
        }
    }

    private int[] identity() {
        int[] order = new int[y.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        return order;
    }
}
