package dev.sift.job.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.job.SiftPipeline;
import dev.sift.job.config.SiftOptions;
import dev.sift.job.infer.InferenceSettings;
import dev.sift.model.bench.BenchEnvironment;
import dev.sift.model.bundle.Directories;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.LayerShape;
import dev.sift.model.bundle.Manifests;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.SharedEncoders;
import dev.sift.model.finetune.TopBatch;
import dev.sift.model.finetune.TopSpec;
import dev.sift.model.finetune.TopWeights;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelDraft;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.RealBert;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.models.LoadedModel;
import dev.sift.serving.models.ModelLoader;
import dev.sift.serving.request.RawRecord;
import dev.sift.serving.request.RequestLimits;
import dev.sift.serving.testing.TestModels;
import dev.sift.trainer.corpus.SpamAssassinCorpus;
import dev.sift.trainer.data.Example;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.tensorflow.SavedModelBundle;

/**
 * What a shared trunk buys: records/s of Sift's job on BERT-base serving
 *
 * <ol type="a">
 *   <li>one head-only model (one full encoder pass per batch);
 *   <li>two fine-tuned models (top K = 2 layers each) on one encoder: one trunk pass of 10 layers
 *       per batch, then each model's own 2 layers and head;
 *   <li>the same two models as two full encoder passes: the second model's encoder is a copy of
 *       BERT-base with a different content hash, so nothing is shared, as if each model had been
 *       exported with its own full encoder.
 * </ol>
 *
 * All three on the same stream (SpamAssassin, half whole mails and half subject lines, as {@link
 * PipelineBenchmark}'s mixed stream), with the job's defaults, in one JVM, repeated in rounds a-b-c
 * then c-b-a so that drift of these shared machines falls on every path alike. Throughput counts
 * only the records whose last result comes after the warm-up point, timed from it, as in {@link
 * PipelineBenchmark}. The fine-tuned tops are BERT-base's own pre-trained top 2 layers ({@link
 * TopWeights#fromSavedModel}) with random heads: untrained, which costs the same.
 *
 * <p>Before the runs it loads two fine-tuned models through the job's loader and prints what each
 * adds to the process (resident memory and Java heap), beside what the shared encoder costs; with
 * the argument {@code memory} it prints only that.
 *
 * <pre>
 * mvn -q -pl flink-job -am install -DskipTests &amp;&amp; mvn -q -pl flink-job exec:exec@serving-bench -Dserving.args="1200 2"
 * </pre>
 */
public final class ServingBenchmark {

    private static final int MAX_LEN = 128;
    private static final int TOP_LAYERS = 2;
    private static final int WARM_UP = 10;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final RecordCodec<ClassificationResult> RESULTS =
            RecordCodec.of(ClassificationResult.class);

    private ServingBenchmark() {}

    /** One way of serving, by the models the job serves. */
    record Served(String label, Set<String> models) {}

    public static void main(String[] args) throws Exception {
        boolean memoryOnly = args.length > 0 && args[0].equals("memory");
        int records = args.length > 0 && !memoryOnly ? Integer.parseInt(args[0]) : 1200;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;

        Path registryDir = Files.createTempDirectory("sift-serving-bench");
        EncoderBundle bert = RealBert.bundle();
        ModelRegistry registry = RealBert.registryAt(registryDir);
        TopWeights topA;
        TopWeights topB;
        try (SavedModelBundle saved =
                SavedModelBundle.load(bert.savedModelDir().toString(), "serve")) {
            TopSpec spec = TopSpec.top(LayerShape.BERT_BASE, 12, TOP_LAYERS, Pooling.CLS, 2);
            topA = top(saved, spec, 1);
            topB = top(saved, spec, 2);
        }
        publish(registry, fineTuned("tuned-a", bert.contentHash(), topA));
        publish(registry, fineTuned("tuned-b", bert.contentHash(), topB));
        if (memoryOnly) {
            BenchEnvironment.print(System.out);
            memory(registry);
            return;
        }
        EncoderBundle copy = copyWithOwnHash(bert, registry.encodersDir());
        publish(registry, head(bert.contentHash()));
        publish(registry, fineTuned("tuned-b-alone", copy.contentHash(), topB));
        List<String> texts = mixedStream(records);

        System.out.println(
                "BERT-base: (a) one head, (b) two fine-tuned models (K = "
                        + TOP_LAYERS
                        + ") on one shared trunk, (c) the same two as two full encoder passes");
        BenchEnvironment.print(System.out);
        InferenceSettings defaults = InferenceSettings.builder().registry("-").build();
        System.out.printf(
                Locale.ROOT,
                "Sift job: defaults of InferenceSettings.builder() = maxBatchSize %d,"
                        + " maxBatchTokens %d, maxWait %d ms; Flink parallelism 1, buffer timeout"
                        + " %d ms; %d records, %d rounds (a b c, then c b a ...), the first %d"
                        + " completions of each run are warm-up%n",
                defaults.maxBatchSize(),
                defaults.maxBatchTokens(),
                defaults.maxWaitMillis(),
                SiftOptions.BUFFER_TIMEOUT.defaultValue().toMillis(),
                texts.size(),
                rounds,
                WARM_UP);
        System.out.println("load average at start: " + loadAverage());
        System.out.println();

        memory(registry);

        List<Served> paths =
                List.of(
                        new Served("(a) one head-only model", Set.of("head")),
                        new Served(
                                "(b) two fine-tuned models (K = 2), one shared trunk",
                                Set.of("tuned-a", "tuned-b")),
                        new Served(
                                "(c) the same two, two full encoder passes",
                                Set.of("tuned-a", "tuned-b-alone")));
        Map<Served, List<Double>> rates = new LinkedHashMap<>();
        paths.forEach(p -> rates.put(p, new ArrayList<>()));
        for (int round = 0; round < rounds; round++) {
            List<Served> order = new ArrayList<>(paths);
            if (round % 2 == 1) {
                Collections.reverse(order);
            }
            for (Served path : order) {
                double rate = run(texts, registryDir.toString(), path.models());
                rates.get(path).add(rate);
                System.out.printf(
                        Locale.ROOT,
                        "round %d %s: %.2f records/s%n",
                        round + 1,
                        path.label(),
                        rate);
            }
        }
        System.out.println("load average at end: " + loadAverage());
        System.out.println();
        System.out.println("| path | records/s (mean of rounds) | rounds |");
        System.out.println("|---|---:|---|");
        Map<Served, Double> means = new LinkedHashMap<>();
        for (var entry : rates.entrySet()) {
            double mean = entry.getValue().stream().mapToDouble(d -> d).average().orElse(0);
            means.put(entry.getKey(), mean);
            System.out.printf(
                    Locale.ROOT,
                    "| %s | %.2f | %s |%n",
                    entry.getKey().label(),
                    mean,
                    entry.getValue().stream()
                            .map(r -> String.format(Locale.ROOT, "%.2f", r))
                            .toList());
        }
        double b = means.get(paths.get(1));
        double c = means.get(paths.get(2));
        System.out.printf(Locale.ROOT, "%n(b) / (c) = %.2fx (goal: at least 1.6x)%n", b / c);
    }

    /**
     * Resident memory and Java heap of this process with the encoder alone, then after each of two
     * fine-tuned models is loaded by the job's loader and has run once.
     */
    private static void memory(ModelRegistry registry) throws Exception {
        ModelLoader loader = new ModelLoader(registry);
        Sample s0 = Sample.now();
        String encoderHash = RealBert.bundle().contentHash();
        try (SharedEncoders.Lease encoder = SharedEncoders.acquire(registry.encoder(encoderHash))) {
            Sample s1 = Sample.now();
            // Opened here, as the job's loader verifies it; like the job, nothing keeps the
            // bundle (its weights on the heap) once the model is loaded.
            try (LoadedModel first = loader.load(registry.openLatest("tuned-a").orElseThrow())) {
                runOnce(first);
                Sample s2 = Sample.now();
                try (LoadedModel second =
                        loader.load(registry.openLatest("tuned-b").orElseThrow())) {
                    runOnce(second);
                    Sample s3 = Sample.now();
                    System.out.println(
                            "Memory (resident set from /proc/self/status; outside the heap ="
                                    + " resident minus committed Java heap; heap used after a full"
                                    + " GC):");
                    System.out.println("| what | resident + | outside the heap + | heap used + |");
                    System.out.println("|---|---:|---:|---:|");
                    row("BERT-base encoder, shared per JVM", s0, s1);
                    row("first fine-tuned model (K = 2)", s1, s2);
                    row("second fine-tuned model (K = 2)", s2, s3);
                    System.out.printf(
                            Locale.ROOT,
                            "(a K = %d top holds %.1f M parameters = %.1f MB in float32)%n%n",
                            TOP_LAYERS,
                            parameters(first.top().spec()) / 1e6,
                            parameters(first.top().spec()) * 4 / 1e6);
                }
            }
        }
    }

    private static void row(String what, Sample before, Sample after) {
        System.out.printf(
                Locale.ROOT,
                "| %s | %.0f MB | %.0f MB | %.0f MB |%n",
                what,
                (after.resident() - before.resident()) / 1e6,
                (after.outsideHeap() - before.outsideHeap()) / 1e6,
                (after.heapUsed() - before.heapUsed()) / 1e6);
    }

    /**
     * The process's resident set (/proc/self/status), the Java heap it has committed, and the heap
     * in use after a full GC.
     */
    record Sample(long resident, long heapCommitted, long heapUsed) {
        static Sample now() throws IOException {
            System.gc();
            Runtime runtime = Runtime.getRuntime();
            long used = runtime.totalMemory() - runtime.freeMemory();
            return new Sample(residentBytes(), runtime.totalMemory(), used);
        }

        /**
         * Resident memory beyond the committed heap: native allocations, TensorFlow's among them.
         */
        long outsideHeap() {
            return resident - heapCommitted;
        }
    }

    private static long parameters(TopSpec spec) {
        return spec.parameters().values().stream()
                .mapToLong(shape -> Arrays.stream(shape).reduce(1, (x, y) -> x * y))
                .sum();
    }

    /** One 32-token batch of 8 through the top, so that anything allocated lazily is counted. */
    private static void runOnce(LoadedModel model) {
        int h = 768;
        int[] lengths = new int[8];
        Arrays.fill(lengths, 32);
        float[] hidden = new float[8 * 32 * h];
        Random random = new Random(1);
        for (int i = 0; i < hidden.length; i++) {
            hidden[i] = (float) random.nextGaussian();
        }
        model.top().run(new TopBatch(8, 32, hidden, lengths, null));
    }

    private static long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("No VmRSS in /proc/self/status");
    }

    private static String loadAverage() throws IOException {
        return Files.readString(Path.of("/proc/loadavg")).trim();
    }

    /**
     * Runs the job on {@code texts} serving {@code models}, every request classified by each, and
     * returns records/s: per request, the time of its last result.
     */
    private static double run(List<String> texts, String registry, Set<String> models)
            throws Exception {
        InferenceSettings settings =
                InferenceSettings.builder()
                        .registry(registry)
                        .servedModels(models)
                        .resultsTopic("results")
                        .deadLetterTopic("dead-letters")
                        .build();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        env.setBufferTimeout(SiftOptions.BUFFER_TIMEOUT.defaultValue().toMillis());
        List<String> values = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            values.add(JSON.writeValueAsString(Map.of("id", "r" + i, "text", texts.get(i))));
        }
        DataStream<RawRecord> requests =
                env.fromSequence(0, values.size() - 1)
                        .map(
                                i ->
                                        new RawRecord(
                                                "bench",
                                                0,
                                                i,
                                                System.currentTimeMillis(),
                                                null,
                                                values.get(i.intValue())
                                                        .getBytes(StandardCharsets.UTF_8)))
                        .returns(RawRecord.class);
        // No announcements: what the registry records as announced serves throughout. (An empty
        // collection is not a valid Flink source, hence the empty filter.)
        DataStream<byte[]> announcements =
                env.fromSequence(0, 0)
                        .filter(x -> false)
                        .map(x -> new byte[0])
                        .returns(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        long[] lastResult = new long[texts.size()];
        int[] results = new int[texts.size()];
        SiftPipeline.build(requests, announcements, settings, RequestLimits.DEFAULTS)
                .map(
                        record -> {
                            long done = System.currentTimeMillis();
                            if (!record.topic.equals("results")) {
                                return new long[] {-1, done};
                            }
                            String id = RESULTS.decode(record.value).getId().toString();
                            return new long[] {Long.parseLong(id.substring(1)), done};
                        })
                .returns(TypeInformation.of(long[].class))
                .executeAndCollect()
                .forEachRemaining(
                        r -> {
                            if (r[0] < 0) {
                                throw new IllegalStateException("A request was dead-lettered");
                            }
                            int i = (int) r[0];
                            results[i]++;
                            lastResult[i] = Math.max(lastResult[i], r[1]);
                        });
        for (int i = 0; i < results.length; i++) {
            if (results[i] != models.size()) {
                throw new IllegalStateException(
                        "Request " + i + " got " + results[i] + " results from " + models);
            }
        }
        return rate(lastResult);
    }

    /**
     * Same rule as {@link PipelineBenchmark}: completions after the warm-up point, timed from it.
     */
    private static double rate(long[] doneTimes) {
        long[] done = doneTimes.clone();
        Arrays.sort(done);
        long warmUpPoint = done[WARM_UP - 1];
        long counted = Arrays.stream(done).filter(t -> t > warmUpPoint).count();
        if (counted == 0) {
            throw new IllegalStateException("Every record finished by the warm-up point");
        }
        return counted / ((done[done.length - 1] - warmUpPoint) / 1000.0);
    }

    /** Half whole mails, half subject lines, as {@link PipelineBenchmark}'s mixed stream. */
    private static List<String> mixedStream(int records) throws Exception {
        Path data = SpamAssassinCorpus.fetch(SpamAssassinCorpus.defaultCache());
        List<Example> mails =
                new ArrayList<>(
                        SpamAssassinCorpus.examples(data, SpamAssassinCorpus.GROUPS, Map.of())
                                .examples());
        Collections.shuffle(mails, new Random(3));
        List<String> mixed = new ArrayList<>();
        for (int i = 0; mixed.size() < records; i++) {
            Example mail = mails.get(i);
            String subject = mail.attributes().getOrDefault("subject", "");
            mixed.add(i % 2 == 0 || subject.isBlank() ? mail.text() : subject);
        }
        return mixed;
    }

    /**
     * A copy of {@code encoder} with one more file, hence its own content hash: the job loads it as
     * a second encoder and shares nothing with the first.
     */
    private static EncoderBundle copyWithOwnHash(EncoderBundle encoder, Path encodersRoot)
            throws IOException {
        Path staging = Files.createTempDirectory(encodersRoot, ".copy-");
        try (Stream<Path> files = Files.walk(encoder.dir())) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Path target = staging.resolve(encoder.dir().relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else if (!file.getFileName().toString().equals(Manifests.FILE_NAME)) {
                    Files.copy(file, target);
                }
            }
        }
        try {
            Files.writeString(
                    staging.resolve("copy.txt"),
                    "A copy of encoder "
                            + encoder.contentHash()
                            + " for the serving benchmark: same weights, its own content hash.\n");
            return EncoderBundle.install(staging, encoder.manifest(), encodersRoot);
        } finally {
            if (Files.exists(staging)) {
                Directories.deleteRecursively(staging);
            }
        }
    }

    private static TopWeights top(SavedModelBundle saved, TopSpec spec, long seed) {
        Random random = new Random(seed);
        float[] kernel = new float[768 * 2];
        for (int i = 0; i < kernel.length; i++) {
            kernel[i] = (float) (random.nextGaussian() * 0.05);
        }
        return TopWeights.fromSavedModel(saved.session(), spec, kernel, new float[2]);
    }

    private static ModelDraft head(String encoderHash) {
        Random random = new Random(5);
        float[] w = new float[768 * 2];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * 0.1);
        }
        return ModelDraft.builder("head", encoderHash)
                .pooling(Pooling.CLS)
                .maxSeqLen(MAX_LEN)
                .head(new ClassificationHead(w, new float[2], List.of("ham", "spam")))
                .build();
    }

    private static ModelDraft fineTuned(String name, String encoderHash, TopWeights top) {
        return ModelDraft.builder(name, encoderHash)
                .fineTuned(top, List.of("ham", "spam"))
                .maxSeqLen(MAX_LEN)
                .build();
    }

    private static void publish(ModelRegistry registry, ModelDraft draft) throws IOException {
        ModelBundle bundle = registry.publish(draft);
        registry.recordAnnouncement(
                bundle.name(),
                TestModels.encode(TestModels.announcement(bundle, ModelAction.ACTIVATE)));
    }
}
