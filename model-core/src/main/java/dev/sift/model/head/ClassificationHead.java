package dev.sift.model.head;

import java.util.List;
import java.util.Objects;

/**
 * A linear classification head: {@code p = softmax(h · W + b)} with {@code W ∈ R^{d×k}}, {@code b ∈
 * R^k} and one label per column. Heads are small (768×3 floats ≈ 9 KB) and immutable, so one
 * instance can be shared by every thread that serves its model.
 *
 * <pre>{@code
 * ClassificationHead head = HeadFormat.read(path, List.of("ham", "spam"));
 * float[] p = head.probabilities(clsVector);
 * }</pre>
 */
public final class ClassificationHead {

    private final float[] weights; // row-major d×k: weights[i * k + j] = W[i][j]
    private final float[] bias;
    private final List<String> labels;
    private final int inputSize;

    /**
     * @param weights {@code W} row-major, {@code inputSize × labels.size()} values
     * @param bias {@code b}, one value per label
     */
    public ClassificationHead(float[] weights, float[] bias, List<String> labels) {
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(bias, "bias");
        this.labels = List.copyOf(labels);
        int k = this.labels.size();
        if (k < 2) {
            throw new IllegalArgumentException("A head needs at least 2 labels, got " + k);
        }
        if (this.labels.stream().distinct().count() != k) {
            throw new IllegalArgumentException("Label names must be distinct: " + labels);
        }
        if (bias.length != k) {
            throw new IllegalArgumentException(
                    "Bias has " + bias.length + " values but there are " + k + " labels");
        }
        if (weights.length == 0 || weights.length % k != 0) {
            throw new IllegalArgumentException(
                    "Weights hold "
                            + weights.length
                            + " values, not a multiple of "
                            + k
                            + " labels");
        }
        checkFinite(weights, "weights");
        checkFinite(bias, "bias");
        this.weights = weights.clone();
        this.bias = bias.clone();
        this.inputSize = weights.length / k;
    }

    /** {@code d}: the size of the vectors this head reads. */
    public int inputSize() {
        return inputSize;
    }

    public int labelCount() {
        return labels.size();
    }

    public List<String> labels() {
        return labels;
    }

    /** {@code W[i][j]}. */
    public float weight(int i, int j) {
        return weights[i * labels.size() + j];
    }

    public float bias(int j) {
        return bias[j];
    }

    /** A copy of {@code W}, row-major. */
    public float[] weights() {
        return weights.clone();
    }

    /** A copy of {@code b}. */
    public float[] bias() {
        return bias.clone();
    }

    /** {@code h · W + b}, accumulated in double precision. */
    public double[] logits(float[] h) {
        if (h.length != inputSize) {
            throw new IllegalArgumentException(
                    "Head expects vectors of size " + inputSize + ", got " + h.length);
        }
        int k = labels.size();
        double[] z = new double[k];
        for (int j = 0; j < k; j++) {
            z[j] = bias[j];
        }
        for (int i = 0; i < inputSize; i++) {
            double hi = h[i];
            int row = i * k;
            for (int j = 0; j < k; j++) {
                z[j] += hi * weights[row + j];
            }
        }
        return z;
    }

    /** {@code softmax(h · W + b)}. */
    public float[] probabilities(float[] h) {
        double[] p = softmax(logits(h));
        float[] out = new float[p.length];
        for (int j = 0; j < p.length; j++) {
            out[j] = (float) p[j];
        }
        return out;
    }

    /** Row-wise {@link #probabilities(float[])} for a batch. */
    public float[][] probabilities(float[][] batch) {
        float[][] out = new float[batch.length][];
        for (int b = 0; b < batch.length; b++) {
            out[b] = probabilities(batch[b]);
        }
        return out;
    }

    /** Numerically stable softmax: shifts by the maximum so no exponent overflows. */
    public static double[] softmax(double[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (double z : logits) {
            max = Math.max(max, z);
        }
        double sum = 0;
        double[] p = new double[logits.length];
        for (int j = 0; j < logits.length; j++) {
            p[j] = Math.exp(logits[j] - max);
            sum += p[j];
        }
        for (int j = 0; j < logits.length; j++) {
            p[j] /= sum;
        }
        return p;
    }

    /** Index of the largest value; the first one on ties. */
    public static int argMax(float[] values) {
        int best = 0;
        for (int j = 1; j < values.length; j++) {
            if (values[j] > values[best]) {
                best = j;
            }
        }
        return best;
    }

    private static void checkFinite(float[] values, String what) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new IllegalArgumentException(what + "[" + i + "] is " + values[i]);
            }
        }
    }
}
