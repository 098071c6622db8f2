package dev.sift.model.bench;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.Encoder;
import dev.sift.model.encode.EncoderPrecision;
import dev.sift.model.encode.PaddedBatch;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.testing.RealBert;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.tensorflow.proto.ConfigProto;

/**
 * BERT-base in float32 against the same SavedModel loaded with Grappler's oneDNN bfloat16 auto
 * mixed precision ({@code rewrite_options.auto_mixed_precision_onednn_bfloat16: ON} in the
 * session's ConfigProto, passed through DJL's {@code ConfigProto} model option): time per pass
 * (best of 3, interleaved) and how far {@code h_CLS} and a 2-label head's probabilities move.
 *
 * <pre>
 * mvn -q -pl model-core test-compile exec:java -Dexec.mainClass=dev.sift.model.bench.PrecisionBenchmark
 * </pre>
 */
public final class PrecisionBenchmark {

    private PrecisionBenchmark() {}

    public static void main(String[] args) throws Exception {
        EncoderBundle bundle = RealBert.bundle();
        ConfigProto bf16 = EncoderPrecision.BFLOAT16.sessionConfig();
        ClassificationHead head = randomHead(bundle.manifest().hiddenSize());
        System.out.println("BERT-base, float32 vs oneDNN bfloat16 auto mixed precision");
        BenchEnvironment.print(System.out);
        System.out.println();
        System.out.println(
                "| batch × length | float32 pass | bf16 pass | speed-up | max rel. error of h_CLS"
                        + " | max abs. change of p |");
        System.out.println("|---:|---:|---:|---:|---:|---:|");
        try (Encoder fp32 = TensorFlowEncoder.load(bundle);
                Encoder mixed = TensorFlowEncoder.load(bundle, bf16)) {
            for (int[] shape : new int[][] {{32, 32}, {32, 128}}) {
                PaddedBatch batch =
                        PaddedBatch.of(
                                EncoderBenchmark.inputsOfLength(bundle, shape[1])
                                        .subList(0, shape[0]));
                float[][] a = fp32.encode(batch, EnumSet.of(Pooling.CLS)).vectors(Pooling.CLS);
                float[][] b = mixed.encode(batch, EnumSet.of(Pooling.CLS)).vectors(Pooling.CLS);
                double best32 = Double.MAX_VALUE;
                double best16 = Double.MAX_VALUE;
                for (int r = 0; r < 3; r++) {
                    best32 = Math.min(best32, millis(fp32, batch));
                    best16 = Math.min(best16, millis(mixed, batch));
                }
                double relError = 0;
                double pChange = 0;
                for (int i = 0; i < a.length; i++) {
                    relError = Math.max(relError, norm(diff(a[i], b[i])) / norm(a[i]));
                    float[] pa = head.probabilities(a[i]);
                    float[] pb = head.probabilities(b[i]);
                    for (int j = 0; j < pa.length; j++) {
                        pChange = Math.max(pChange, Math.abs(pa[j] - pb[j]));
                    }
                }
                System.out.printf(
                        Locale.ROOT,
                        "| %d × %d | %.0f ms | %.0f ms | %.2fx | %.4f | %.4f |%n",
                        shape[0],
                        shape[1],
                        best32,
                        best16,
                        best32 / best16,
                        relError,
                        pChange);
            }
        }
    }

    private static double millis(Encoder encoder, PaddedBatch batch) {
        long start = System.nanoTime();
        encoder.encode(batch, EnumSet.of(Pooling.CLS));
        return (System.nanoTime() - start) / 1e6;
    }

    private static ClassificationHead randomHead(int d) {
        Random random = new Random(5);
        float[] w = new float[d * 2];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * 0.1);
        }
        return new ClassificationHead(w, new float[2], List.of("ham", "spam"));
    }

    private static float[] diff(float[] a, float[] b) {
        float[] d = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
        }
        return d;
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += (double) x * x;
        }
        return Math.sqrt(s);
    }
}
