package dev.sift.trainer.train;

import dev.sift.model.bundle.Digests;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Manifests;
import dev.sift.model.encode.Pooling;
import dev.sift.model.head.HeadFormat;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.trainer.data.Dataset;
import dev.sift.trainer.data.DatasetException;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.data.Splits;
import dev.sift.trainer.eval.Evaluation;
import dev.sift.trainer.features.FeatureExtractor;
import dev.sift.trainer.report.HtmlReport;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One training run end to end: split the data, extract features with model-core, fit the head,
 * evaluate it and the currently published version on the same test set, and write the run folder
 * ({@code head.bin}, {@code run.json}, {@code report.html}) that {@code publish} turns into a model
 * version.
 */
public final class Training {

    /** Everything a run needs. */
    public record Settings(
            String model,
            ModelRegistry registry,
            EncoderBundle encoder,
            Pooling pooling,
            int maxSeqLen,
            int encodeBatchSize,
            double validationFraction,
            double testFraction,
            TrainingOptions options,
            Path featureCache,
            Path runDir,
            PrintStream progress) {}

    /** What a run produced and how long its parts took. */
    public record Outcome(
            Path runDir,
            Evaluation evaluation,
            HtmlReport.Baseline baseline,
            HeadTrainer.Result training,
            Splits splits,
            Duration featureTime,
            Duration trainTime) {}

    private Training() {}

    public static Outcome run(Dataset data, String dataHash, Settings settings)
            throws IOException, DatasetException {
        ModelRegistry.checkName(settings.model());
        List<String> labels = data.labels();
        if (labels.size() < 2) {
            throw new DatasetException(
                    data.source() + ": needs at least 2 labels, found " + labels);
        }
        Splits splits =
                Splits.stratified(
                        data.examples(),
                        settings.validationFraction(),
                        settings.testFraction(),
                        settings.options().seed());

        Instant featureStart = Instant.now();
        float[][] train;
        float[][] validation;
        float[][] test;
        HtmlReport.Baseline baseline;
        Optional<ModelBundle> current = settings.registry().openLatest(settings.model());
        try (FeatureExtractor features =
                new FeatureExtractor(
                        settings.encoder(),
                        settings.maxSeqLen(),
                        settings.encodeBatchSize(),
                        settings.featureCache(),
                        settings.progress())) {
            train = features.vectors(splits.train(), settings.pooling());
            validation = features.vectors(splits.validation(), settings.pooling());
            test = features.vectors(splits.test(), settings.pooling());
            baseline = baseline(current, features, splits.test(), labels, settings);
        }
        Duration featureTime = Duration.between(featureStart, Instant.now());

        Instant trainStart = Instant.now();
        HeadTrainer.Result result =
                HeadTrainer.train(
                        train,
                        indices(splits.train(), labels),
                        validation,
                        indices(splits.validation(), labels),
                        labels,
                        settings.options());
        Duration trainTime = Duration.between(trainStart, Instant.now());
        Evaluation evaluation =
                Evaluation.of(
                        result.head(), test, indices(splits.test(), labels), groups(splits.test()));

        Path dir = Files.createDirectories(settings.runDir());
        HeadFormat.write(result.head(), dir.resolve(RunManifest.HEAD_FILE));
        Map<String, String> training = new LinkedHashMap<>(settings.options().asMap());
        training.put("validationFraction", Double.toString(settings.validationFraction()));
        training.put("testFraction", Double.toString(settings.testFraction()));
        training.put("trainExamples", Integer.toString(splits.train().size()));
        training.put("bestEpoch", Integer.toString(result.bestEpoch()));
        RunManifest manifest =
                new RunManifest(
                        settings.model(),
                        settings.encoder().contentHash(),
                        settings.pooling(),
                        settings.maxSeqLen(),
                        labels,
                        evaluation.asMetrics(),
                        dataHash,
                        training,
                        baseline == null ? null : baseline.version(),
                        baseline == null ? null : baseline.evaluation().asMetrics(),
                        Instant.now().toString());
        Files.write(dir.resolve(RunManifest.FILE_NAME), Manifests.toBytes(manifest));

        Map<String, String> facts = new LinkedHashMap<>();
        facts.put(
                "data",
                data.source()
                        + " ("
                        + data.examples().size()
                        + " examples, "
                        + data.badRows().size()
                        + " bad rows skipped)");
        facts.put("data SHA-256", dataHash);
        facts.put("labels", data.labelCounts().toString());
        facts.put(
                "split",
                String.format(
                        Locale.ROOT,
                        "%d train / %d validation / %d test",
                        splits.train().size(),
                        splits.validation().size(),
                        splits.test().size()));
        facts.put(
                "encoder",
                settings.encoder().manifest().name()
                        + " "
                        + settings.encoder().contentHash().substring(0, 12));
        facts.put("pooling", settings.pooling().id());
        facts.put("max_seq_len", Integer.toString(settings.maxSeqLen()));
        facts.put("features", featureTime.toMillis() + " ms");
        facts.put("head training", trainTime.toMillis() + " ms");
        training.forEach(facts::put);
        Files.writeString(
                dir.resolve(RunManifest.REPORT_FILE),
                HtmlReport.render(settings.model(), facts, result, evaluation, baseline),
                StandardCharsets.UTF_8);
        return new Outcome(dir, evaluation, baseline, result, splits, featureTime, trainTime);
    }

    /** SHA-256 of the data file, recorded in every version trained on it. */
    public static String dataHash(Path file) throws IOException {
        return Digests.sha256(file);
    }

    /** The published version's figures on this test set, when it reads the same encoder. */
    private static HtmlReport.Baseline baseline(
            Optional<ModelBundle> current,
            FeatureExtractor features,
            List<Example> test,
            List<String> labels,
            Settings settings)
            throws IOException {
        if (current.isEmpty()) {
            return null;
        }
        ModelBundle bundle = current.get();
        var manifest = bundle.manifest();
        if (!manifest.encoder().contentHash().equals(settings.encoder().contentHash())
                || manifest.maxSeqLen() != settings.maxSeqLen()
                || !manifest.labels().equals(labels)) {
            settings.progress()
                    .printf(
                            "note: %s v%d uses another encoder, length or label set; not"
                                    + " compared%n",
                            bundle.name(), bundle.version());
            return null;
        }
        float[][] x = features.vectors(test, manifest.pooling());
        return new HtmlReport.Baseline(
                bundle.version(),
                Evaluation.of(bundle.head(), x, indices(test, labels), groups(test)));
    }

    static int[] indices(List<Example> examples, List<String> labels) {
        int[] y = new int[examples.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = labels.indexOf(examples.get(i).label());
        }
        return y;
    }

    private static List<String> groups(List<Example> examples) {
        return examples.stream().map(e -> e.attributes().getOrDefault("group", e.label())).toList();
    }
}
