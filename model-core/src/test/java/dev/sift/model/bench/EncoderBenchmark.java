package dev.sift.model.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.encode.Encoder;
import dev.sift.model.encode.PaddedBatch;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.testing.RealBert;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.model.tokenize.TokenizedInput;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Throughput of BERT-base through Sift's encoder on this machine: sequences per second for each
 * sequence length × batch size, padded to the batch's own length (what Sift does) and to 128 (what
 * serving stacks that pad to the model maximum do), measured side by side; plus the matrix-multiply
 * rate of the same engine, so the encoder's fraction of peak can be read off.
 *
 * <pre>
 * mvn -q -pl model-core test-compile exec:java@bench
 * </pre>
 *
 * Each cell runs at least {@code -Dbench.minBatches} batches (default 3) and {@code
 * -Dbench.minSeconds} seconds (default 2) after one warm-up batch.
 */
public final class EncoderBenchmark {

    private static final int[] LENGTHS = {16, 32, 64, 128};
    private static final int[] BATCHES = {1, 8, 32};
    private static final int FIXED_PADDING = 128;
    private static final String TEXT =
            "Sift classifies Kafka traffic in real time: spam, sentiment, topics and sentence"
                    + " pairs. Each record is tokenized into WordPieces, batched with records of"
                    + " similar length, padded only to the longest sequence of its own batch, and"
                    + " encoded by BERT-base on the TensorFlow engine, after which a linear head"
                    + " turns the vector at the classification token into label probabilities."
                    + " Operators watch throughput, latency and padding efficiency in the Flink"
                    + " dashboard while new model versions arrive through broadcast state.";

    private EncoderBenchmark() {}

    public static void main(String[] args) throws Exception {
        int minBatches = Integer.getInteger("bench.minBatches", 3);
        double minSeconds = Double.parseDouble(System.getProperty("bench.minSeconds", "2"));
        EncoderBundle bundle = RealBert.bundle();
        try (Encoder encoder = TensorFlowEncoder.load(bundle)) {
            int hidden = bundle.manifest().hiddenSize();
            System.out.printf(
                    Locale.ROOT,
                    "BERT-base (%s) on %s, %d cores, TensorFlow %s%n",
                    bundle.manifest().name(),
                    encoder.device(),
                    Runtime.getRuntime().availableProcessors(),
                    Engine.getEngine("TensorFlow").getVersion());
            double peak = 0;
            for (int n : new int[] {1024, 2048, 4096}) {
                double rate = matMulGflops(n);
                System.out.printf(
                        Locale.ROOT, "matmul %dx%d (float32): %.1f GFLOP/s%n", n, n, rate);
                peak = Math.max(peak, rate);
            }
            System.out.printf(Locale.ROOT, "peak taken as the best: %.1f GFLOP/s%n%n", peak);
            System.out.println(
                    "| length | batch | seq/s (own padding) | GFLOP/s | % of matmul | seq/s (padded"
                            + " to 128) | speed-up |");
            System.out.println("|---:|---:|---:|---:|---:|---:|---:|");
            for (int length : LENGTHS) {
                List<TokenizedInput> pool = inputsOfLength(bundle, length);
                for (int batchSize : BATCHES) {
                    List<TokenizedInput> batch = pool.subList(0, batchSize);
                    double own = measure(encoder, PaddedBatch.of(batch), minBatches, minSeconds);
                    double fixed =
                            measure(
                                    encoder,
                                    PaddedBatch.paddedTo(batch, FIXED_PADDING),
                                    minBatches,
                                    minSeconds);
                    double gflops = own * flopsPerSequence(length, hidden) / 1e9;
                    System.out.printf(
                            Locale.ROOT,
                            "| %d | %d | %.1f | %.0f | %.0f%% | %.1f | %.2fx |%n",
                            length,
                            batchSize,
                            own,
                            gflops,
                            100 * gflops / peak,
                            fixed,
                            own / fixed);
                }
            }
        }
    }

    /** Sequences of exactly {@code length} tokens, cut from real text at different offsets. */
    private static List<TokenizedInput> inputsOfLength(EncoderBundle bundle, int length)
            throws Exception {
        try (BertTokenizer tokenizer = BertTokenizer.load(bundle.tokenizerFile(), length)) {
            String[] words = TEXT.split(" ");
            List<TokenizedInput> inputs = new ArrayList<>();
            for (int i = 0; inputs.size() < 32; i++) {
                StringBuilder text = new StringBuilder();
                for (int w = 0; w < 4 * length; w++) {
                    text.append(words[(i + w) % words.length]).append(' ');
                }
                TokenizedInput input = tokenizer.encode(text.toString());
                if (input.length() != length) {
                    throw new IllegalStateException("Text too short for length " + length);
                }
                inputs.add(input);
            }
            return inputs;
        }
    }

    private static double measure(
            Encoder encoder, PaddedBatch batch, int minBatches, double minSeconds) {
        encoder.encode(batch); // warm-up: first runs allocate and pick kernels
        long start = System.nanoTime();
        int batches = 0;
        double elapsed;
        do {
            encoder.encode(batch);
            batches++;
            elapsed = (System.nanoTime() - start) / 1e9;
        } while (batches < minBatches || elapsed < minSeconds);
        return batches * batch.size() / elapsed;
    }

    /**
     * Forward-pass FLOPs of one sequence of {@code t} tokens through BERT-base (12 layers, d=768,
     * FFN 4d): per token and layer, 2·(4d² + 8d²) for the projections and feed-forward, plus
     * 2·2·t·d for attention scores and their weighted sum.
     */
    static double flopsPerSequence(int t, int d) {
        int layers = 12;
        double perTokenPerLayer = 2.0 * 12 * d * (double) d + 4.0 * t * d;
        return layers * perTokenPerLayer * t;
    }

    private static double matMulGflops(int n) {
        try (NDManager manager = NDManager.newBaseManager("TensorFlow")) {
            NDArray a = manager.randomUniform(-1f, 1f, new Shape(n, n));
            NDArray b = manager.randomUniform(-1f, 1f, new Shape(n, n));
            a.matMul(b).toFloatArray(); // warm-up
            long start = System.nanoTime();
            int runs = 0;
            double elapsed;
            do {
                try (NDArray c = a.matMul(b)) {
                    c.toFloatArray(); // forces the computation to finish
                }
                runs++;
                elapsed = (System.nanoTime() - start) / 1e9;
            } while (runs < 5 || elapsed < 2);
            return runs * 2.0 * n * n * n / elapsed / 1e9;
        }
    }
}
