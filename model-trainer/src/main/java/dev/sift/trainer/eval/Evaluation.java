package dev.sift.trainer.eval;

import dev.sift.model.head.ClassificationHead;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How a head does on labeled vectors: accuracy, macro-F1, per-class precision/recall/F1, the
 * confusion matrix (rows true, columns predicted), log-loss and expected calibration error (15
 * equal-width confidence bins), plus errors broken down by a grouping attribute.
 */
public record Evaluation(
        List<String> labels,
        int[][] confusion,
        double accuracy,
        double macroF1,
        double[] precision,
        double[] recall,
        double[] f1,
        double logLoss,
        double expectedCalibrationError,
        Map<String, int[]> errorsByGroup) {

    private static final int CALIBRATION_BINS = 15;

    /**
     * @param groups per example, the group to break errors down by (e.g. the corpus group), or null
     */
    public static Evaluation of(
            ClassificationHead head, float[][] x, int[] y, List<String> groups) {
        float[][] probabilities = new float[y.length][];
        for (int n = 0; n < y.length; n++) {
            probabilities[n] = head.probabilities(x[n]);
        }
        return of(head.labels(), probabilities, y, groups);
    }

    /**
     * Mean cross-entropy of each example's probabilities against its label, each probability
     * floored at 1e-15 as in {@link #logLoss()}; 0 for no examples.
     */
    public static double meanLogLoss(float[][] probabilities, int[] y) {
        double loss = 0;
        for (int n = 0; n < y.length; n++) {
            loss -= Math.log(Math.max(probabilities[n][y[n]], 1e-15));
        }
        return loss / Math.max(1, y.length);
    }

    /**
     * The same figures from each example's label probabilities, however they were computed (a head
     * on vectors, or a fine-tuned top on trunk states).
     *
     * @param groups per example, the group to break errors down by (e.g. the corpus group), or null
     */
    public static Evaluation of(
            List<String> labels, float[][] probabilities, int[] y, List<String> groups) {
        int k = labels.size();
        int[][] confusion = new int[k][k];
        double logLoss = 0;
        double[] binConfidence = new double[CALIBRATION_BINS];
        double[] binCorrect = new double[CALIBRATION_BINS];
        int[] binCount = new int[CALIBRATION_BINS];
        Map<String, int[]> byGroup = new TreeMap<>();
        for (int n = 0; n < y.length; n++) {
            float[] p = probabilities[n];
            int predicted = ClassificationHead.argMax(p);
            confusion[y[n]][predicted]++;
            logLoss -= Math.log(Math.max(p[y[n]], 1e-15));
            int bin = Math.min(CALIBRATION_BINS - 1, (int) (p[predicted] * CALIBRATION_BINS));
            binConfidence[bin] += p[predicted];
            binCorrect[bin] += predicted == y[n] ? 1 : 0;
            binCount[bin]++;
            if (groups != null) {
                int[] counts = byGroup.computeIfAbsent(groups.get(n), g -> new int[2]);
                counts[0]++;
                counts[1] += predicted == y[n] ? 0 : 1;
            }
        }
        double ece = 0;
        for (int b = 0; b < CALIBRATION_BINS; b++) {
            if (binCount[b] > 0) {
                ece += Math.abs(binCorrect[b] - binConfidence[b]) / y.length;
            }
        }
        double[] precision = new double[k];
        double[] recall = new double[k];
        double[] f1 = new double[k];
        int correct = 0;
        for (int j = 0; j < k; j++) {
            correct += confusion[j][j];
            int predicted = 0;
            int actual = 0;
            for (int i = 0; i < k; i++) {
                predicted += confusion[i][j];
                actual += confusion[j][i];
            }
            precision[j] = predicted == 0 ? 0 : (double) confusion[j][j] / predicted;
            recall[j] = actual == 0 ? 0 : (double) confusion[j][j] / actual;
            f1[j] =
                    precision[j] + recall[j] == 0
                            ? 0
                            : 2 * precision[j] * recall[j] / (precision[j] + recall[j]);
        }
        double macroF1 = 0;
        for (double v : f1) {
            macroF1 += v / k;
        }
        return new Evaluation(
                labels,
                confusion,
                (double) correct / y.length,
                macroF1,
                precision,
                recall,
                f1,
                logLoss / y.length,
                ece,
                byGroup);
    }

    public int size() {
        int n = 0;
        for (int[] row : confusion) {
            for (int c : row) {
                n += c;
            }
        }
        return n;
    }

    /** Per class, how many test examples truly have it (the confusion matrix's row sums). */
    public int[] support() {
        int[] support = new int[confusion.length];
        for (int i = 0; i < confusion.length; i++) {
            for (int c : confusion[i]) {
                support[i] += c;
            }
        }
        return support;
    }

    /** Headline and per-class figures, as stored in a model manifest. */
    public Map<String, Double> asMetrics() {
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("accuracy", accuracy);
        metrics.put("macro_f1", macroF1);
        metrics.put("log_loss", logLoss);
        metrics.put("ece", expectedCalibrationError);
        metrics.put("test_examples", (double) size());
        int[] support = support();
        for (int j = 0; j < labels.size(); j++) {
            metrics.put("precision." + labels.get(j), precision[j]);
            metrics.put("recall." + labels.get(j), recall[j]);
            metrics.put("f1." + labels.get(j), f1[j]);
            metrics.put("support." + labels.get(j), (double) support[j]);
        }
        return metrics;
    }
}
