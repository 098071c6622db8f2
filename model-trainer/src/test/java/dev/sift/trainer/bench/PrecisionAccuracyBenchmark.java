package dev.sift.trainer.bench;

import dev.sift.model.SiftHome;
import dev.sift.model.bench.BenchEnvironment;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.EncodedBatch;
import dev.sift.model.encode.Encoder;
import dev.sift.model.encode.EncoderPrecision;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.RealBert;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.model.tokenize.TokenizedInput;
import dev.sift.trainer.data.Columns;
import dev.sift.trainer.data.Dataset;
import dev.sift.trainer.data.DatasetReader;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.eval.Evaluation;
import dev.sift.trainer.train.Training;
import dev.sift.trainer.train.TrainingOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Float32 against oneDNN bfloat16 on the spam test split, with the head {@code sift-trainer train}
 * trains by default (stratified 70/10/20 split, seed 42, pooling chosen by validation loss, on
 * float32 features): accuracy, macro-F1, log-loss, how far each spam probability moves, how many
 * decisions flip, and encoder passes per second. Each test batch (length-sorted, 32 mails) runs
 * through both encoders back to back, the order alternating, so both see the same machine load.
 *
 * <pre>
 * java -jar model-trainer/target/sift-trainer.jar corpus spamassassin --out data/spam.jsonl
 * mvn -q -pl model-trainer test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=dev.sift.trainer.bench.PrecisionAccuracyBenchmark \
 *     -Dexec.args="data/spam.jsonl [feature-cache-folder]"
 * </pre>
 */
public final class PrecisionAccuracyBenchmark {

    private static final int MAX_LEN = 128;
    private static final int BATCH = 32;

    private PrecisionAccuracyBenchmark() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println(
                    "usage: PrecisionAccuracyBenchmark <spam.jsonl from 'sift-trainer corpus"
                            + " spamassassin'> [feature cache folder]");
            System.exit(2);
        }
        Path data = Path.of(args[0]);
        Path featureCache = args.length > 1 ? Path.of(args[1]) : SiftHome.dir().resolve("features");
        EncoderBundle bundle = RealBert.bundle();
        Dataset dataset = new DatasetReader(new Columns("text", "text_b", "label"), 0.5).read(data);

        Path scratch = Files.createTempDirectory("sift-precision");
        ModelRegistry registry = RealBert.registryAt(scratch.resolve("registry"));
        Training.Outcome trained =
                Training.run(
                        dataset,
                        Training.dataHash(data),
                        Training.Settings.builder("spam", registry, bundle, scratch.resolve("run"))
                                .maxSeqLen(MAX_LEN)
                                .encodeBatchSize(BATCH)
                                .options(new TrainingOptions(200, 64, 0.001, 0.001, false, 8, 42))
                                .featureCache(featureCache)
                                .build());
        Pooling pooling = trained.pooling();
        ClassificationHead head = trained.training().head();
        List<String> labels = head.labels();
        List<Example> test = trained.splits().test();

        record Item(TokenizedInput input, int label, String group) {}
        List<Item> items = new ArrayList<>();
        try (BertTokenizer tokenizer = BertTokenizer.load(bundle.tokenizerFile(), MAX_LEN)) {
            for (Example e : test) {
                items.add(
                        new Item(
                                tokenizer.encode(e.text()),
                                labels.indexOf(e.label()),
                                e.attributes().getOrDefault("group", e.label())));
            }
        }
        items.sort(Comparator.comparingInt(item -> item.input().length()));
        long tokens = items.stream().mapToLong(item -> item.input().length()).sum();

        int n = items.size();
        float[][] x32 = new float[n][];
        float[][] x16 = new float[n][];
        long nanos32 = 0;
        long nanos16 = 0;
        int passes = 0;
        Set<Pooling> fetch = EnumSet.of(pooling);
        try (Encoder fp32 = TensorFlowEncoder.load(bundle);
                Encoder bf16 =
                        TensorFlowEncoder.load(bundle, EncoderPrecision.BFLOAT16.sessionConfig())) {
            List<TokenizedInput> warmUp = List.of(items.get(n / 2).input());
            fp32.encode(warmUp, fetch); // the first pass of a session includes graph setup
            bf16.encode(warmUp, fetch); // and, for bfloat16, Grappler's rewrite
            for (int from = 0; from < n; from += BATCH, passes++) {
                List<TokenizedInput> batch =
                        items.subList(from, Math.min(n, from + BATCH)).stream()
                                .map(Item::input)
                                .toList();
                boolean fp32First = passes % 2 == 0;
                long a = 0;
                long b = 0;
                EncodedBatch e32 = null;
                EncodedBatch e16 = null;
                for (int turn = 0; turn < 2; turn++) {
                    boolean run32 = (turn == 0) == fp32First;
                    long start = System.nanoTime();
                    if (run32) {
                        e32 = fp32.encode(batch, fetch);
                        a = System.nanoTime() - start;
                    } else {
                        e16 = bf16.encode(batch, fetch);
                        b = System.nanoTime() - start;
                    }
                }
                nanos32 += a;
                nanos16 += b;
                for (int i = 0; i < batch.size(); i++) {
                    x32[from + i] = e32.vector(i, pooling);
                    x16[from + i] = e16.vector(i, pooling);
                }
                System.err.printf(Locale.ROOT, "\rtest batches: %d", passes + 1);
            }
            System.err.println();
        }

        int[] y = items.stream().mapToInt(Item::label).toArray();
        List<String> groups = items.stream().map(Item::group).toList();
        Evaluation eval32 = Evaluation.of(head, x32, y, groups);
        Evaluation eval16 = Evaluation.of(head, x16, y, groups);
        double maxDelta = 0;
        double sumDelta = 0;
        int flips = 0;
        int flipsCorrected = 0;
        int flipsBroken = 0;
        double maxRelError = 0;
        for (int i = 0; i < n; i++) {
            float[] p32 = head.probabilities(x32[i]);
            float[] p16 = head.probabilities(x16[i]);
            double delta = 0;
            for (int j = 0; j < p32.length; j++) {
                delta = Math.max(delta, Math.abs(p32[j] - p16[j]));
            }
            maxDelta = Math.max(maxDelta, delta);
            sumDelta += delta;
            int d32 = ClassificationHead.argMax(p32);
            int d16 = ClassificationHead.argMax(p16);
            if (d32 != d16) {
                flips++;
                flipsCorrected += d16 == y[i] ? 1 : 0;
                flipsBroken += d32 == y[i] ? 1 : 0;
            }
            maxRelError = Math.max(maxRelError, relativeError(x32[i], x16[i]));
        }

        System.out.println("Spam test split: float32 vs oneDNN bfloat16 auto mixed precision");
        BenchEnvironment.print(System.out);
        System.out.printf(
                Locale.ROOT,
                "data: %s, %d examples; split 70/10/20 stratified, seed 42 → %d test mails,"
                        + " %.1f tokens on average (max_seq_len %d)%n",
                data.getFileName(),
                dataset.examples().size(),
                n,
                (double) tokens / n,
                MAX_LEN);
        System.out.printf(
                Locale.ROOT,
                "head: trained as 'sift-trainer train' does by default, on float32 features;"
                        + " pooling %s (validation loss: %s), best epoch %d%n",
                pooling.id(),
                trained.poolingSelection(),
                trained.training().bestEpoch());
        System.out.printf(
                Locale.ROOT,
                "passes: %d length-sorted batches of up to %d, padded to their own longest,"
                        + " both precisions back to back per batch (order alternating); time is"
                        + " the forward passes alone%n",
                passes,
                BATCH);
        System.out.println();
        System.out.println(
                "| precision | accuracy | macro-F1 | log-loss | errors | encode time |"
                        + " mails/s | passes/s |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
        row("float32", eval32, nanos32, n, passes);
        row("bfloat16", eval16, nanos16, n, passes);
        System.out.println();
        System.out.printf(
                Locale.ROOT,
                "bfloat16 vs float32: speed-up %.2fx; |Δ p| max %.4f, mean %.5f; decisions"
                        + " flipped %d of %d (%d to right, %d to wrong); max relative error of"
                        + " the %s vector %.4f%n",
                (double) nanos32 / nanos16,
                maxDelta,
                sumDelta / n,
                flips,
                n,
                flipsCorrected,
                flipsBroken,
                pooling.id(),
                maxRelError);
        System.out.printf(
                Locale.ROOT,
                "training's own test evaluation (float32 features from the cache): accuracy"
                        + " %.4f, macro-F1 %.4f, log-loss %.4f%n",
                trained.evaluation().accuracy(),
                trained.evaluation().macroF1(),
                trained.evaluation().logLoss());
    }

    private static void row(String name, Evaluation e, long nanos, int mails, int passes) {
        double seconds = nanos / 1e9;
        System.out.printf(
                Locale.ROOT,
                "| %s | %.4f | %.4f | %.4f | %d | %.1f s | %.1f | %.2f |%n",
                name,
                e.accuracy(),
                e.macroF1(),
                e.logLoss(),
                Math.round((1 - e.accuracy()) * e.size()),
                seconds,
                mails / seconds,
                passes / seconds);
    }

    private static double relativeError(float[] a, float[] b) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < a.length; i++) {
            diff += (double) (a[i] - b[i]) * (a[i] - b[i]);
            norm += (double) a[i] * a[i];
        }
        return Math.sqrt(diff / norm);
    }
}
