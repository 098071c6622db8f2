package dev.sift.job.bench;

import dev.sift.job.bench.PipelineBenchmark.Measured;
import dev.sift.job.bench.PipelineBenchmark.Stream;
import dev.sift.job.infer.InferenceSettings;
import dev.sift.model.bench.BenchEnvironment;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.OnnxGraph;
import dev.sift.model.finetune.TopSpec;
import dev.sift.model.finetune.TopWeights;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.ngram.NgramFormat;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelDraft;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.RealBert;
import dev.sift.schemas.ModelAction;
import dev.sift.serving.testing.TestModels;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import org.tensorflow.SavedModelBundle;

/**
 * What each way of serving the spam model costs, measured in one run on the same records: every
 * path is a published version in one registry, served by Sift's job with its default settings on
 * the mixed and the short stream of {@link PipelineBenchmark}. Per path and stream: records/s at
 * saturation, then p50 and p99 latency paced at 80% of that path's own saturation and at 5
 * records/s, and the peak resident memory of the JVM that ran it. Each path runs in a JVM of its
 * own (Flink's local cluster: the JobManager and one TaskManager), so that figure is the whole
 * TaskManager's for that path alone, warm-up included. Per-record inference on BERT-base (one pass
 * per record, padded to 128) runs beside them as the latency reference.
 *
 * <pre>
 * # a registry with the trained versions, one model name per path (docs/model-cards/spam.md), then:
 * mvn -q -pl flink-job exec:exec@cost -Dcost.args="prepare REGISTRY NGRAMS_BIN"  # bert-k2-blend, bert-head
 * mvn -q -pl flink-job exec:exec@cost -Dcost.args="top REGISTRY all-minilm-l6-v2-float32 5 minilm32-k5"
 * mvn -q -pl flink-job exec:exec@cost -Dcost.args="run REGISTRY 1000 bert-k2-blend spam-bge8 ..."
 * </pre>
 *
 * {@code bert-k2-blend} is today's best model in cost: BERT-base's own top two layers as a
 * fine-tuned top with a random head, blended with a real n-gram model at BERT's share of 0.15, so
 * it does exactly the work of the trained K=2 blend (its accuracy is the model card's).
 */
public final class CostBenchmark {

    private static final String RESULT = "RESULT ";
    private static final double LIGHT_LOAD = 5;
    private static final int LATENCY_RECORDS = 120;
    private static final int PACED_RECORDS = 400;

    private CostBenchmark() {}

    public static void main(String[] args) throws Exception {
        switch (args.length == 0 ? "" : args[0]) {
            case "prepare" -> prepare(Path.of(args[1]), Path.of(args[2]));
            case "top" -> top(Path.of(args[1]), args[2], Integer.parseInt(args[3]), args[4]);
            case "run" -> run(Path.of(args[1]), Integer.parseInt(args[2]), tail(args, 3));
            case "one" ->
                    one(
                            Path.of(args[1]),
                            Integer.parseInt(args[2]),
                            Integer.parseInt(args[3]),
                            args[4]);
            default -> {
                System.err.println(
                        "usage: CostBenchmark prepare REGISTRY NGRAMS_BIN | top REGISTRY"
                                + " ONNX_ENCODER LAYERS NAME | run REGISTRY RECORDS MODEL...");
                System.exit(2);
            }
        }
    }

    private static List<String> tail(String[] args, int from) {
        return List.of(args).subList(from, args.length);
    }

    /** Publishes and announces {@code bert-k2-blend} and {@code bert-head} on BERT-base. */
    static void prepare(Path root, Path ngramsFile) throws IOException {
        ModelRegistry registry = ModelRegistry.at(root);
        EncoderBundle bert = RealBert.bundle();
        Path link = registry.encodersDir().resolve(bert.contentHash());
        if (!Files.exists(link)) {
            Files.createDirectories(registry.encodersDir());
            Files.createSymbolicLink(link, bert.dir());
        }
        EncoderManifest m = bert.manifest();
        TopSpec spec = TopSpec.top(m.layerShape(), m.transformerLayers(), 2, Pooling.CLS, 2);
        float[] kernel = gaussian(m.hiddenSize() * 2, 5);
        TopWeights top;
        try (SavedModelBundle saved =
                SavedModelBundle.load(bert.savedModelDir().toString(), m.tags().get(0))) {
            top = TopWeights.fromSavedModel(saved.session(), spec, kernel, new float[2]);
        }
        announce(
                registry,
                registry.publish(
                        ModelDraft.builder("bert-k2-blend", bert.contentHash())
                                .fineTuned(top, List.of("ham", "spam"))
                                .maxSeqLen(128)
                                .blend(NgramFormat.read(ngramsFile), 0.15)
                                .build()));
        announce(
                registry,
                registry.publish(
                        ModelDraft.builder("bert-head", bert.contentHash())
                                .pooling(Pooling.CLS)
                                .maxSeqLen(128)
                                .head(
                                        new ClassificationHead(
                                                gaussian(m.hiddenSize() * 2, 6),
                                                new float[2],
                                                List.of("ham", "spam")))
                                .build()));
    }

    /**
     * Publishes and announces {@code name} on a float32 ONNX encoder of the registry: the encoder's
     * own top {@code layers} layers as a fine-tuned top with a random head, so it does exactly the
     * work of a model fine-tuned that deep (the subject/body pairs on MiniLM's top 5, say).
     */
    static void top(Path root, String encoderName, int layers, String name) throws IOException {
        ModelRegistry registry = ModelRegistry.at(root);
        EncoderBundle encoder =
                registry.encoders().stream()
                        .filter(e -> e.manifest().name().equals(encoderName))
                        .findFirst()
                        .orElseThrow(
                                () -> new IllegalArgumentException("No encoder " + encoderName));
        EncoderManifest m = encoder.manifest();
        TopSpec spec =
                TopSpec.top(
                        m.layerShape(),
                        m.transformerLayers(),
                        layers,
                        Pooling.CLS,
                        2,
                        m.activation());
        TopWeights top =
                TopWeights.fromOnnx(
                        OnnxGraph.read(encoder.graphFile()),
                        spec,
                        gaussian(m.hiddenSize() * 2, 7),
                        new float[2]);
        announce(
                registry,
                registry.publish(
                        ModelDraft.builder(name, encoder.contentHash())
                                .fineTuned(top, List.of("ham", "spam"))
                                .maxSeqLen(128)
                                .build()));
    }

    private static void announce(ModelRegistry registry, ModelBundle bundle) throws IOException {
        registry.recordAnnouncement(
                bundle.name(),
                TestModels.encode(TestModels.announcement(bundle, ModelAction.ACTIVATE)));
        System.out.println("published and announced " + bundle);
    }

    private static float[] gaussian(int size, long seed) {
        Random random = new Random(seed);
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) (0.1 * random.nextGaussian());
        }
        return values;
    }

    /** Every path on every stream, each in a JVM of its own, and the table. */
    static void run(Path registry, int records, List<String> models) throws Exception {
        System.out.println(
                "Sift job with the defaults of InferenceSettings.builder(), one model per run");
        BenchEnvironment.print(System.out);
        System.out.printf(
                Locale.ROOT,
                "saturated: %d records; latency: %d records paced at 80%% of the path's own"
                        + " saturated rate, and the first %d at %.0f/s (paced: the first 10 sent at"
                        + " once and left out, the schedule starting 15 s later, once the model"
                        + " has loaded); memory: the JVM's peak resident set (VmHWM), one JVM per"
                        + " path%n%n",
                records,
                PACED_RECORDS,
                LATENCY_RECORDS,
                LIGHT_LOAD);
        List<Stream> streams = PipelineBenchmark.streams(records);
        for (int s = 0; s < streams.size(); s++) {
            System.out.printf(
                    Locale.ROOT, "### %s, %d records%n%n", streams.get(s).name(), records);
            System.out.println(
                    "| path | records/s (saturated) | p50 / p99 at 80% | p50 / p99 at 5/s |"
                            + " peak RSS |");
            System.out.println("|---|---:|---:|---:|---:|");
            for (String model : models) {
                System.out.println(child(registry, records, s, model));
            }
            System.out.println(child(registry, records, s, "per-record:bert-head"));
            System.out.println();
        }
    }

    private static String child(Path registry, int records, int stream, String model)
            throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx4g");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(CostBenchmark.class.getName());
        command.addAll(
                List.of(
                        "one",
                        registry.toString(),
                        Integer.toString(records),
                        Integer.toString(stream),
                        model));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String row = null;
        try (BufferedReader out =
                new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                if (line.startsWith(RESULT)) {
                    row = line.substring(RESULT.length());
                }
            }
        }
        if (process.waitFor() != 0 || row == null) {
            throw new IllegalStateException(model + " failed (exit " + process.exitValue() + ")");
        }
        return row;
    }

    /** One path on one stream, in this JVM: prints the table row after {@value #RESULT}. */
    static void one(Path registry, int records, int stream, String model) throws Exception {
        List<String> texts = PipelineBenchmark.streams(records).get(stream).texts();
        List<String> light = texts.subList(0, Math.min(texts.size(), LATENCY_RECORDS));
        if (model.startsWith("per-record:")) {
            String name = model.substring("per-record:".length());
            ModelBundle bundle = ModelRegistry.at(registry).openLatest(name).orElseThrow();
            String reg = registry.toString();
            Measured saturated = PipelineBenchmark.perRecordPadded(texts, reg, bundle, 0);
            List<String> paced = texts.subList(0, Math.min(texts.size(), PACED_RECORDS));
            Measured at80 =
                    PipelineBenchmark.perRecordPadded(paced, reg, bundle, 0.8 * saturated.rate());
            Measured atLight = PipelineBenchmark.perRecordPadded(light, reg, bundle, LIGHT_LOAD);
            print(
                    "per-record inference, BERT-base padded to 128 (reference)",
                    saturated,
                    at80,
                    atLight);
            return;
        }
        InferenceSettings settings =
                InferenceSettings.builder()
                        .registry(registry.toString())
                        .servedModels(Set.of(model))
                        .resultsTopic("results")
                        .deadLetterTopic("dead-letters")
                        .build();
        Measured saturated = PipelineBenchmark.sift(texts, settings, 0);
        List<String> paced = texts.subList(0, Math.min(texts.size(), PACED_RECORDS));
        Measured at80 = PipelineBenchmark.sift(paced, settings, 0.8 * saturated.rate());
        Measured atLight = PipelineBenchmark.sift(light, settings, LIGHT_LOAD);
        print(model, saturated, at80, atLight);
    }

    private static void print(String path, Measured saturated, Measured at80, Measured atLight)
            throws IOException {
        System.out.printf(
                Locale.ROOT,
                "%s| %s | %.1f | %d / %d ms | %d / %d ms | %d MB |%n",
                RESULT,
                path,
                saturated.rate(),
                at80.p50(),
                at80.p99(),
                atLight.p50(),
                atLight.p99(),
                peakResidentMegabytes());
    }

    /** VmHWM of this process, from Linux's /proc. */
    private static long peakResidentMegabytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
            }
        }
        return -1;
    }
}
