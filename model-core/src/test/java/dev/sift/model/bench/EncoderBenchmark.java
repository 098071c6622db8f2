package dev.sift.model.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.EncodedBatch;
import dev.sift.model.encode.Encoder;
import dev.sift.model.encode.PaddedBatch;
import dev.sift.model.encode.PassCost;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.testing.RealBert;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.model.tokenize.TokenizedInput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Throughput of BERT-base through Sift's encoder on this machine: sequences per second for each
 * sequence length × batch size, padded to the batch's own length (what Sift does) and to 128 (what
 * serving stacks that pad to the model maximum do), measured side by side; plus the matrix-multiply
 * rate of the same engine, so the encoder's fraction of peak can be read off; what fetching only
 * {@code h_CLS} instead of the whole sequence output saves per pass; and the pass cost the batch
 * planner calibrates with. Passes fetch {@link Pooling#CLS} only, as a serving {@code cls} head
 * does.
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

    /** Keeps the JIT from dropping copies whose results nothing reads. */
    private static long sink;

    private EncoderBenchmark() {}

    public static void main(String[] args) throws Exception {
        int minBatches = Integer.getInteger("bench.minBatches", 3);
        double minSeconds = Double.parseDouble(System.getProperty("bench.minSeconds", "2"));
        EncoderBundle bundle = RealBert.bundle();
        try (Encoder encoder = TensorFlowEncoder.load(bundle)) {
            int hidden = bundle.manifest().hiddenSize();
            System.out.printf(
                    Locale.ROOT,
                    "BERT-base (%s) on %s%n",
                    bundle.manifest().name(),
                    encoder.device());
            BenchEnvironment.print(System.out);
            System.out.printf(
                    Locale.ROOT,
                    "each cell: at least %d batches and %.1f s after one warm-up batch%n%n",
                    minBatches,
                    minSeconds);
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
            fetchSavings(encoder, bundle, hidden);
            calibration(encoder);
        }
    }

    /**
     * Bytes and time per pass of fetching only {@code h_CLS} (sliced in the engine) against what
     * the encoder did before: copying the whole sequence output and the pooled output to the heap.
     * The fetch is timed alone, on an engine tensor of the pass's output shape (median of many), as
     * its few milliseconds are below the noise of a whole pass on a shared machine; whole passes
     * are timed too (best of 5, interleaved) for scale.
     */
    private static void fetchSavings(Encoder encoder, EncoderBundle bundle, int hidden)
            throws Exception {
        int[][] shapes = {{1, 16}, {8, 64}, {32, 32}, {32, 128}};
        System.out.println();
        System.out.println(
                "| batch × length | heap bytes, all outputs | heap bytes, [CLS] only | fetch, all"
                        + " outputs | fetch, [CLS] only | pass, all outputs | pass, [CLS] only |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|");
        for (int[] shape : shapes) {
            int b = shape[0];
            int t = shape[1];
            PaddedBatch batch = PaddedBatch.of(inputsOfLength(bundle, t).subList(0, b));
            Set<Pooling> everything = EnumSet.allOf(Pooling.class);
            Set<Pooling> cls = EnumSet.of(Pooling.CLS);
            long allBytes = encoder.encode(batch, everything).heapBytes();
            long clsBytes = encoder.encode(batch, cls).heapBytes();
            double[] fetch = fetchMillis(b, t, hidden);
            double passAll = Double.MAX_VALUE;
            double passCls = Double.MAX_VALUE;
            for (int r = 0; r < 5; r++) {
                passAll = Math.min(passAll, passMillis(encoder, batch, everything));
                passCls = Math.min(passCls, passMillis(encoder, batch, cls));
            }
            System.out.printf(
                    Locale.ROOT,
                    "| %d × %d | %,d | %,d | %.3f ms | %.3f ms | %.1f ms | %.1f ms |%n",
                    b,
                    t,
                    allBytes,
                    clsBytes,
                    fetch[0],
                    fetch[1],
                    passAll,
                    passCls);
        }
        System.out.println(
                "(all outputs = sequence (B, T, d) + pooled (B, d), what every pass copied before;"
                        + " [CLS] only = the (B, d) slice)");
    }

    private static double passMillis(Encoder encoder, PaddedBatch batch, Set<Pooling> poolings) {
        long start = System.nanoTime();
        EncodedBatch encoded = encoder.encode(batch, poolings);
        double millis = (System.nanoTime() - start) / 1e6;
        if (encoded.size() != batch.size()) {
            throw new IllegalStateException("Lost rows");
        }
        return millis;
    }

    /**
     * Median milliseconds to copy out {@code (b, t, d)} + {@code (b, d)}, and {@code (b, d)}
     * sliced.
     */
    private static double[] fetchMillis(int b, int t, int d) {
        int runs = 41;
        double[] all = new double[runs];
        double[] cls = new double[runs];
        NDIndex first = new NDIndex(":, 0");
        try (NDManager manager = NDManager.newBaseManager("TensorFlow")) {
            NDArray sequence = manager.randomUniform(-1f, 1f, new Shape(b, t, d));
            NDArray pooled = manager.randomUniform(-1f, 1f, new Shape(b, d));
            for (int r = 0; r < runs; r++) {
                long start = System.nanoTime();
                float[] s = sequence.toFloatArray();
                float[] p = pooled.toFloatArray();
                all[r] = (System.nanoTime() - start) / 1e6;
                sink += s.length + p.length;
                start = System.nanoTime();
                try (NDArray slice = sequence.get(first)) {
                    float[] c = slice.toFloatArray();
                    cls[r] = (System.nanoTime() - start) / 1e6;
                    sink += c.length;
                }
            }
        }
        Arrays.sort(all);
        Arrays.sort(cls);
        return new double[] {all[runs / 2], cls[runs / 2]};
    }

    /** What the shared encoder measures on load for the batch planner, and how long it takes. */
    private static void calibration(Encoder encoder) {
        System.out.println();
        for (int r = 0; r < 3; r++) {
            long start = System.nanoTime();
            PassCost cost = PassCost.measure(encoder);
            System.out.printf(
                    Locale.ROOT,
                    "calibration %d: %s, took %.2f s%n",
                    r + 1,
                    cost,
                    (System.nanoTime() - start) / 1e9);
        }
    }

    /** Sequences of exactly {@code length} tokens, cut from real text at different offsets. */
    static List<TokenizedInput> inputsOfLength(EncoderBundle bundle, int length) throws Exception {
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
        Set<Pooling> cls = EnumSet.of(Pooling.CLS);
        encoder.encode(batch, cls); // warm-up: first runs allocate and pick kernels
        long start = System.nanoTime();
        int batches = 0;
        double elapsed;
        do {
            encoder.encode(batch, cls);
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
            NDIndex corner = new NDIndex(0, 0);
            try (NDArray c = a.matMul(b)) { // warm-up
                c.get(corner).getFloat();
            }
            long start = System.nanoTime();
            int runs = 0;
            double elapsed;
            do {
                // Reading one element makes sure the product exists without timing a copy of it.
                try (NDArray c = a.matMul(b);
                        NDArray element = c.get(corner)) {
                    element.getFloat();
                }
                runs++;
                elapsed = (System.nanoTime() - start) / 1e9;
            } while (runs < 5 || elapsed < 2);
            return runs * 2.0 * n * n * n / elapsed / 1e9;
        }
    }
}
