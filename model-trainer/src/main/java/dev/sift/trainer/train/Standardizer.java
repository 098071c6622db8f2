package dev.sift.trainer.train;

import dev.sift.model.head.ClassificationHead;
import java.util.Arrays;
import java.util.List;

/** Per-dimension {@code (x − μ) / σ}, and folding it back into a linear head. */
final class Standardizer {

    private final double[] mean;
    private final double[] scale;

    private Standardizer(double[] mean, double[] scale) {
        this.mean = mean;
        this.scale = scale;
    }

    /** Leaves vectors as they are: a head trained through it is fitted on raw vectors. */
    static Standardizer identity(int d) {
        double[] scale = new double[d];
        Arrays.fill(scale, 1);
        return new Standardizer(new double[d], scale);
    }

    static Standardizer fit(float[][] x) {
        int d = x[0].length;
        double[] mean = new double[d];
        double[] variance = new double[d];
        for (float[] row : x) {
            for (int i = 0; i < d; i++) {
                mean[i] += row[i];
            }
        }
        for (int i = 0; i < d; i++) {
            mean[i] /= x.length;
        }
        for (float[] row : x) {
            for (int i = 0; i < d; i++) {
                double c = row[i] - mean[i];
                variance[i] += c * c;
            }
        }
        double[] scale = new double[d];
        for (int i = 0; i < d; i++) {
            double sd = Math.sqrt(variance[i] / x.length);
            scale[i] = sd > 1e-8 ? sd : 1; // a constant dimension carries no signal; leave it be
        }
        return new Standardizer(mean, scale);
    }

    float[][] apply(float[][] x) {
        float[][] out = new float[x.length][];
        for (int n = 0; n < x.length; n++) {
            out[n] = new float[x[n].length];
            for (int i = 0; i < x[n].length; i++) {
                out[n][i] = (float) ((x[n][i] - mean[i]) / scale[i]);
            }
        }
        return out;
    }

    /**
     * {@code ((h − μ)/σ)·W + b = h·(W/σ) + (b − Σ_i μ_i·W_i/σ_i)}: the head on raw vectors that
     * equals the trained one on standardized vectors.
     */
    ClassificationHead fold(double[] params, List<String> labels) {
        int k = labels.size();
        int d = mean.length;
        float[] w = new float[d * k];
        double[] b = new double[k];
        for (int j = 0; j < k; j++) {
            b[j] = params[d * k + j];
        }
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < k; j++) {
                double scaled = params[i * k + j] / scale[i];
                w[i * k + j] = (float) scaled;
                b[j] -= mean[i] * scaled;
            }
        }
        float[] bias = new float[k];
        for (int j = 0; j < k; j++) {
            bias[j] = (float) b[j];
        }
        return new ClassificationHead(w, bias, labels);
    }
}
