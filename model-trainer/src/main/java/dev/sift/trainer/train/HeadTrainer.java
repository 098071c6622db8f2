package dev.sift.trainer.train;

import dev.sift.model.head.ClassificationHead;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Fits a {@link ClassificationHead} on frozen encoder features by mini-batch Adam on {@link
 * SoftmaxObjective}, keeping the parameters of the epoch with the lowest validation loss and
 * stopping when it has not improved for {@code patience} epochs. Deterministic for a seed.
 *
 * <p>Features are standardized per dimension while training (BERT's dimensions differ in scale by
 * orders of magnitude, which slows any first-order optimizer); the scaling is folded back into
 * {@code W} and {@code b} afterwards, so the head computes {@code softmax(h·W + b)} on the raw
 * vectors the job produces. ({@link #trainOnRawVectors} skips that, for the head fine-tuning starts
 * from.)
 */
public final class HeadTrainer {

    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPSILON = 1e-8;

    /** Per-epoch figures, for the report's curves. */
    public record Epoch(
            int epoch,
            double trainLoss,
            double validationLoss,
            double trainAccuracy,
            double validationAccuracy) {}

    public record Result(ClassificationHead head, List<Epoch> history, int bestEpoch) {}

    private HeadTrainer() {}

    public static Result train(
            float[][] x,
            int[] y,
            float[][] xValidation,
            int[] yValidation,
            List<String> labels,
            TrainingOptions options) {
        return train(x, y, xValidation, yValidation, labels, options, Standardizer.fit(x));
    }

    /**
     * Fits the head on the vectors as they are, so that L2 falls on the weights the job will use.
     * Standardizing first (what {@link #train} does) makes a dimension that varies little as cheap
     * to lean on as any other, and folding back divides its weight by that small deviation: the
     * head is the same function, but with large weights wherever the encoder's output is nearly
     * constant. That is harmless on frozen features, and is what fine-tuning should not start from,
     * because the first updates to the layers under such a head move those dimensions and its
     * answers with them.
     */
    public static Result trainOnRawVectors(
            float[][] x,
            int[] y,
            float[][] xValidation,
            int[] yValidation,
            List<String> labels,
            TrainingOptions options) {
        return train(
                x,
                y,
                xValidation,
                yValidation,
                labels,
                options,
                Standardizer.identity(x[0].length));
    }

    private static Result train(
            float[][] x,
            int[] y,
            float[][] xValidation,
            int[] yValidation,
            List<String> labels,
            TrainingOptions options,
            Standardizer standardizer) {
        int k = labels.size();
        int d = x[0].length;
        float[][] xs = standardizer.apply(x);
        float[][] vs = standardizer.apply(xValidation);
        double[] weights = options.classWeights() ? balancedWeights(y, k) : ones(k);
        SoftmaxObjective objective = new SoftmaxObjective(xs, y, k, weights, options.l2());
        SoftmaxObjective validation =
                new SoftmaxObjective(vs, yValidation, k, ones(k), options.l2());

        Random random = new Random(options.seed());
        double[] params = new double[d * k + k];
        for (int p = 0; p < d * k; p++) {
            params[p] = random.nextGaussian() * 0.01;
        }
        double[] m = new double[params.length];
        double[] v = new double[params.length];
        double[] grad = new double[params.length];
        int[] order = new int[y.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }

        List<Epoch> history = new ArrayList<>();
        double[] best = params.clone();
        double bestLoss = Double.POSITIVE_INFINITY;
        int bestEpoch = 0;
        long step = 0;
        for (int epoch = 1; epoch <= options.maxEpochs(); epoch++) {
            shuffle(order, random);
            for (int from = 0; from < order.length; from += options.batchSize()) {
                int to = Math.min(order.length, from + options.batchSize());
                java.util.Arrays.fill(grad, 0);
                objective.lossAndGradient(params, order, from, to, grad);
                step++;
                double lr =
                        options.learningRate()
                                * Math.sqrt(1 - Math.pow(BETA2, step))
                                / (1 - Math.pow(BETA1, step));
                for (int p = 0; p < params.length; p++) {
                    m[p] = BETA1 * m[p] + (1 - BETA1) * grad[p];
                    v[p] = BETA2 * v[p] + (1 - BETA2) * grad[p] * grad[p];
                    params[p] -= lr * m[p] / (Math.sqrt(v[p]) + EPSILON);
                }
            }
            double trainLoss = objective.loss(params);
            double validationLoss = yValidation.length > 0 ? validation.loss(params) : trainLoss;
            history.add(
                    new Epoch(
                            epoch,
                            trainLoss,
                            validationLoss,
                            accuracy(objective, params, xs, y, k),
                            yValidation.length > 0
                                    ? accuracy(validation, params, vs, yValidation, k)
                                    : Double.NaN));
            if (validationLoss < bestLoss - 1e-6) {
                bestLoss = validationLoss;
                best = params.clone();
                bestEpoch = epoch;
            } else if (epoch - bestEpoch >= options.patience()) {
                break;
            }
        }
        return new Result(standardizer.fold(best, labels), history, bestEpoch);
    }

    private static double accuracy(
            SoftmaxObjective objective, double[] params, float[][] x, int[] y, int k) {
        double[] z = new double[k];
        int correct = 0;
        for (int n = 0; n < y.length; n++) {
            objective.logits(params, x[n], z);
            int best = 0;
            for (int j = 1; j < k; j++) {
                if (z[j] > z[best]) {
                    best = j;
                }
            }
            correct += best == y[n] ? 1 : 0;
        }
        return (double) correct / y.length;
    }

    /** {@code n / (k · count_c)}: every class weighs the same in total. */
    static double[] balancedWeights(int[] y, int k) {
        double[] counts = new double[k];
        for (int label : y) {
            counts[label]++;
        }
        double[] weights = new double[k];
        for (int j = 0; j < k; j++) {
            weights[j] = counts[j] == 0 ? 0 : y.length / (k * counts[j]);
        }
        return weights;
    }

    private static double[] ones(int k) {
        double[] ones = new double[k];
        java.util.Arrays.fill(ones, 1);
        return ones;
    }

    private static void shuffle(int[] order, Random random) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
}
