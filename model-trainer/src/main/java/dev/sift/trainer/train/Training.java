package dev.sift.trainer.train;

import dev.sift.model.SiftHome;
import dev.sift.model.bundle.ConfidenceProfile;
import dev.sift.model.bundle.Digests;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.FineTunedTop;
import dev.sift.model.bundle.Manifests;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.finetune.TopFormat;
import dev.sift.model.head.HeadFormat;
import dev.sift.model.ngram.NgramFormat;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.tokenize.Truncation;
import dev.sift.trainer.baseline.TfidfBaseline;
import dev.sift.trainer.data.Dataset;
import dev.sift.trainer.data.DatasetException;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.data.Splits;
import dev.sift.trainer.eval.Evaluation;
import dev.sift.trainer.features.FeatureExtractor;
import dev.sift.trainer.features.TrunkStates;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;

/**
 * One training run end to end: split the data, extract features with model-core, fit the head,
 * evaluate it and the currently published version on the same test set, fit the TF-IDF baseline
 * ({@link TfidfBaseline}) on the same split so every run says whether BERT earns its cost, and
 * write the run folder ({@code head.bin}, {@code run.json}, {@code report.html}) that {@code
 * publish} turns into a model version.
 */
public final class Training {

    /**
     * Everything a run needs. With several {@code poolings}, a head is trained for each (one
     * encoder pass yields them all) and the one with the lowest validation loss is kept, or [CLS]
     * when fine-tuning ({@link #choosePooling}); the test set plays no part in that choice. With
     * {@code fineTune} enabled, the encoder's top layers are then trained with that head ({@link
     * TopTraining}), and the fine-tuned model is what the run yields. With {@code blendNgrams}, the
     * TF-IDF baseline is blended into that model where validation says it helps ({@link
     * NgramBlending}), and the blend is what the run yields. With {@code cascade}, the TF-IDF model
     * then answers alone where it is sure enough ({@link Cascading}), and the cascade is what the
     * run yields.
     */
    public record Settings(
            String model,
            ModelRegistry registry,
            EncoderBundle encoder,
            List<Pooling> poolings,
            int maxSeqLen,
            int encodeBatchSize,
            double validationFraction,
            double testFraction,
            TrainingOptions options,
            Path featureCache,
            Path runDir,
            PrintStream progress,
            FineTuneOptions fineTune,
            Truncation truncation,
            boolean blendNgrams,
            boolean cascade) {

        public Settings {
            truncation = truncation != null ? truncation : Truncation.HEAD;
            truncation.checkFits(maxSeqLen);
        }

        /**
         * Settings with the CLI's defaults (every pooling tried, 128 tokens, batches of 32, a
         * 70/10/20 split, {@link TrainingOptions#defaults()}, features cached under the Sift home,
         * progress on standard error, no fine-tuning, head truncation, no blend):
         *
         * <pre>{@code
         * Training.Settings settings = Training.Settings.builder("spam", registry, encoder, runDir)
         *         .poolings(List.of(Pooling.CLS))
         *         .fineTune(fineTune)
         *         .build();
         * }</pre>
         */
        public static Builder builder(
                String model, ModelRegistry registry, EncoderBundle encoder, Path runDir) {
            return new Builder(model, registry, encoder, runDir);
        }

        /** Builds {@link Settings}; every setter overrides one default. */
        public static final class Builder {
            private final String model;
            private final ModelRegistry registry;
            private final EncoderBundle encoder;
            private final Path runDir;
            private List<Pooling> poolings = List.of(Pooling.values());
            private int maxSeqLen = 128;
            private int encodeBatchSize = 32;
            private double validationFraction = 0.1;
            private double testFraction = 0.2;
            private TrainingOptions options = TrainingOptions.defaults();
            private Path featureCache = SiftHome.dir().resolve("features");
            private PrintStream progress = System.err;
            private FineTuneOptions fineTune;
            private Truncation truncation = Truncation.HEAD;
            private boolean blendNgrams;
            private boolean cascade;

            private Builder(
                    String model, ModelRegistry registry, EncoderBundle encoder, Path runDir) {
                this.model = model;
                this.registry = registry;
                this.encoder = encoder;
                this.runDir = runDir;
            }

            public Builder poolings(List<Pooling> poolings) {
                this.poolings = List.copyOf(poolings);
                return this;
            }

            public Builder maxSeqLen(int maxSeqLen) {
                this.maxSeqLen = maxSeqLen;
                return this;
            }

            public Builder encodeBatchSize(int encodeBatchSize) {
                this.encodeBatchSize = encodeBatchSize;
                return this;
            }

            /** The validation and test shares of the data, each stratified. */
            public Builder split(double validationFraction, double testFraction) {
                this.validationFraction = validationFraction;
                this.testFraction = testFraction;
                return this;
            }

            public Builder options(TrainingOptions options) {
                this.options = options;
                return this;
            }

            public Builder featureCache(Path featureCache) {
                this.featureCache = featureCache;
                return this;
            }

            public Builder progress(PrintStream progress) {
                this.progress = progress;
                return this;
            }

            /** Fine-tune the top layers with the head; null for a head-only run. */
            public Builder fineTune(FineTuneOptions fineTune) {
                this.fineTune = fineTune;
                return this;
            }

            public Builder truncation(Truncation truncation) {
                this.truncation = truncation;
                return this;
            }

            /** Blend the TF-IDF baseline into the model where validation says it helps. */
            public Builder blendNgrams(boolean blendNgrams) {
                this.blendNgrams = blendNgrams;
                return this;
            }

            /** Let the TF-IDF model answer alone where it is sure enough ({@link Cascading}). */
            public Builder cascade(boolean cascade) {
                this.cascade = cascade;
                return this;
            }

            public Settings build() {
                return new Settings(
                        model,
                        registry,
                        encoder,
                        poolings,
                        maxSeqLen,
                        encodeBatchSize,
                        validationFraction,
                        testFraction,
                        options,
                        featureCache,
                        runDir,
                        progress,
                        fineTune,
                        truncation,
                        blendNgrams,
                        cascade);
            }
        }

        /** Whether this run fine-tunes encoder layers. */
        public boolean fineTunes() {
            return fineTune != null && fineTune.enabled();
        }
    }

    /**
     * What a run produced and how long its parts took.
     *
     * @param evaluation the run's model on the test set: the fine-tuned one when fine-tuning
     * @param headEvaluation the head on frozen features on the test set (the same as {@code
     *     evaluation} without fine-tuning)
     * @param trainTime head training, and fine-tuning when it ran
     * @param fineTuned the fine-tuning stage, or null
     * @param encodedInputs texts this run passed through the encoder (0 when all were cached)
     * @param tfidfBaseline the TF-IDF baseline fitted on the same split, on the same test set
     * @param encoderEvaluation the head or fine-tuned top alone on the test set (the same as {@code
     *     evaluation} unless the run blends)
     * @param blend how much of the baseline the run's model blends in, or null when not asked
     * @param cascade where the TF-IDF model hands over to the full model, or null when not asked
     * @param testEncoderShare with a cascade, the share of test records that reached the encoder
     * @param fullEvaluation with a cascade, the full model (every record through the encoder) on
     *     the test set; null without one
     */
    public record Outcome(
            Path runDir,
            Pooling pooling,
            String poolingSelection,
            Evaluation evaluation,
            HtmlReport.Baseline baseline,
            HeadTrainer.Result training,
            Splits splits,
            Duration featureTime,
            Duration trainTime,
            Evaluation headEvaluation,
            TopTraining.Outcome fineTuned,
            int encodedInputs,
            HtmlReport.TfidfColumn tfidfBaseline,
            Evaluation encoderEvaluation,
            NgramBlending.Choice blend,
            Cascading.Choice cascade,
            double testEncoderShare,
            Evaluation fullEvaluation) {}

    /** Texts per batch when a fine-tuned top only predicts. */
    private static final int EVALUATION_BATCH = 32;

    private Training() {}

    /**
     * A test set that comes with the data (a corpus' own split) and the SHA-256 of its file. With
     * one, {@link Settings#testFraction()} is not used: validation is cut from the data, and the
     * test set is evaluated as given.
     */
    public record TestSet(Dataset data, String hash) {}

    /** Splits {@code data} stratified into train, validation and test sets, and runs. */
    public static Outcome run(Dataset data, String dataHash, Settings settings)
            throws IOException, DatasetException {
        return run(data, dataHash, null, settings);
    }

    /**
     * Trains on {@code data} and evaluates on {@code test}, or on a stratified cut of {@code data}
     * when {@code test} is null.
     */
    public static Outcome run(Dataset data, String dataHash, TestSet test, Settings settings)
            throws IOException, DatasetException {
        ModelRegistry.checkName(settings.model());
        List<String> labels = data.labels();
        if (labels.size() < 2) {
            throw new DatasetException(
                    data.source() + ": needs at least 2 labels, found " + labels);
        }
        return new Run(data, dataHash, test, settings).run();
    }

    /**
     * One run's stages, in order, and what each leaves for the next. A run is used once: {@link
     * #run} calls the stages and returns what they produced.
     */
    private static final class Run {
        private final Dataset data;
        private final String dataHash;
        private final TestSet test;
        private final Settings settings;
        private final List<String> labels;

        private Splits splits;
        private List<Example> everything;
        private Map<Pooling, float[][][]> features;
        private HtmlReport.Baseline baseline;
        private int encodedInputs;
        private Duration featureTime;
        private Instant trainStart;
        private Pooling chosen;
        private HeadTrainer.Result result;
        private String selection;
        private float[][] testVectors;
        private Evaluation headEvaluation;
        private Duration headTime;
        private TopTraining.Outcome fineTuned;
        private Duration trainTime;
        private Evaluation encoderEvaluation;
        private TfidfBaseline.Result fittedTfidf;
        private HtmlReport.TfidfColumn tfidf;
        private Evaluation evaluation;
        private NgramBlending.Choice blend;
        private Cascading.Choice cascade;
        private double testEncoderShare = 1;
        private Evaluation fullEvaluation;
        private float[][] fullValidation;
        private float[][] fullTest;

        /** The test set's probabilities as the version answers them: blended, cascaded. */
        private float[][] servedTest;

        private Path dir;
        private Map<String, String> training;

        private Run(Dataset data, String dataHash, TestSet test, Settings settings) {
            this.data = data;
            this.dataHash = dataHash;
            this.test = test;
            this.settings = settings;
            this.labels = data.labels();
        }

        private Outcome run() throws IOException, DatasetException {
            split();
            encode();
            trainHeads();
            fineTuneTop();
            fitNgramBaseline();
            chooseBlend();
            chooseCascade();
            writeRun();
            writeReport();
            return new Outcome(
                    dir,
                    chosen,
                    selection,
                    evaluation,
                    baseline,
                    result,
                    splits,
                    featureTime,
                    trainTime,
                    headEvaluation,
                    fineTuned,
                    encodedInputs,
                    tfidf,
                    encoderEvaluation,
                    blend,
                    cascade,
                    testEncoderShare,
                    fullEvaluation);
        }

        /** Train, validation and test sets: a stratified cut of the data, or the given test set. */
        private void split() throws DatasetException {
            if (test == null) {
                splits =
                        Splits.stratified(
                                data.examples(),
                                settings.validationFraction(),
                                settings.testFraction(),
                                settings.options().seed());
                everything = data.examples();
            } else {
                checkTestSet(data, test.data());
                splits =
                        Splits.withTest(
                                data.examples(),
                                test.data().examples(),
                                settings.validationFraction(),
                                settings.options().seed());
                everything = new ArrayList<>(data.examples());
                everything.addAll(test.data().examples());
            }
        }

        /**
         * Every input encoded once, in one length-sorted pass: every pooling's vectors, the trunk
         * states fine-tuning reads, and the published version's figures on this test set.
         */
        private void encode() throws IOException {
            Instant featureStart = Instant.now();
            features = new LinkedHashMap<>(); // train, validation, test
            Optional<ModelBundle> current = settings.registry().openLatest(settings.model());
            try (FeatureExtractor extractor =
                    new FeatureExtractor(
                            settings.encoder(),
                            settings.maxSeqLen(),
                            settings.truncation(),
                            settings.encodeBatchSize(),
                            settings.featureCache(),
                            settings.progress())) {
                // Encode the whole data set at once: one length-sorted pass fills every pooling,
                // and the trunk states fine-tuning reads.
                extractor.prepare(everything, settings.fineTunes() ? trunkLayers(settings) : 0);
                for (Pooling pooling : settings.poolings()) {
                    features.put(
                            pooling,
                            new float[][][] {
                                extractor.vectors(splits.train(), pooling),
                                extractor.vectors(splits.validation(), pooling),
                                extractor.vectors(splits.test(), pooling)
                            });
                }
                baseline = baseline(current, extractor, splits.test(), labels, settings);
                encodedInputs = extractor.encodedInputs();
            }
            featureTime = Duration.between(featureStart, Instant.now());
        }

        /** A head per pooling; the pooling to keep, and its head on the test set. */
        private void trainHeads() {
            trainStart = Instant.now();
            Map<Pooling, HeadTrainer.Result> heads = new LinkedHashMap<>();
            Map<Pooling, Double> validationLosses = new LinkedHashMap<>();
            for (Pooling pooling : settings.poolings()) {
                float[][][] x = features.get(pooling);
                HeadTrainer.Result candidate =
                        HeadTrainer.train(
                                x[0],
                                indices(splits.train(), labels),
                                x[1],
                                indices(splits.validation(), labels),
                                labels,
                                settings.options());
                heads.put(pooling, candidate);
                validationLosses.put(
                        pooling,
                        candidate.history().get(candidate.bestEpoch() - 1).validationLoss());
            }
            chosen = choosePooling(validationLosses, settings.fineTunes());
            result = heads.get(chosen);
            selection =
                    validationLosses.size() > 1 ? describeChoice(validationLosses, chosen) : null;
            testVectors = features.get(chosen)[2];
            headEvaluation =
                    Evaluation.of(
                            result.head(),
                            testVectors,
                            indices(splits.test(), labels),
                            groups(splits.test()));
            headTime = Duration.between(trainStart, Instant.now());
        }

        /** The top layers fine-tuned with the head, when the settings ask for it. */
        private void fineTuneTop() throws IOException {
            fineTuned = null;
            if (settings.fineTunes()) {
                fineTuned =
                        TopTraining.run(
                                settings.encoder(),
                                settings.encoder().manifest().transformerLayers(),
                                settings.encoder().manifest().layerShape(),
                                settings.featureCache(),
                                settings.maxSeqLen(),
                                settings.truncation(),
                                splits,
                                labels,
                                chosen,
                                features.get(chosen)[0],
                                features.get(chosen)[1],
                                settings.options(),
                                settings.fineTune(),
                                settings.progress());
            }
            trainTime = Duration.between(trainStart, Instant.now());
            encoderEvaluation = fineTuned == null ? headEvaluation : fineTuned.evaluation();
        }

        /** The TF-IDF baseline on the same split, to hold the encoder against and to blend. */
        private void fitNgramBaseline() {
            fittedTfidf = fitTfidfBaseline(splits, labels, settings);
            tfidf =
                    new HtmlReport.TfidfColumn(
                            fittedTfidf.description(),
                            Evaluation.of(
                                    labels,
                                    fittedTfidf.testProbabilities(),
                                    indices(splits.test(), labels),
                                    groups(splits.test())),
                            fittedTfidf.fitTime());
        }

        /**
         * The blend with the TF-IDF model, where the settings ask for it and validation favours it.
         * Leaves the run's full model's validation and test probabilities for the cascade.
         */
        private void chooseBlend() {
            evaluation = encoderEvaluation;
            blend = null;
            fullValidation =
                    fineTuned == null
                            ? result.head().probabilities(features.get(chosen)[1])
                            : fineTuned.training().validationProbabilities();
            fullTest =
                    fineTuned == null
                            ? result.head().probabilities(testVectors)
                            : fineTuned.testProbabilities();
            if (settings.blendNgrams()) {
                blend =
                        NgramBlending.choose(
                                fullValidation,
                                fittedTfidf.validationProbabilities(),
                                indices(splits.validation(), labels));
                if (blend.blends()) {
                    fullValidation =
                            NgramBlending.blend(
                                    fullValidation,
                                    fittedTfidf.validationProbabilities(),
                                    blend.encoderWeight());
                    fullTest =
                            NgramBlending.blend(
                                    fullTest,
                                    fittedTfidf.testProbabilities(),
                                    blend.encoderWeight());
                    evaluation = testEvaluation(fullTest);
                }
            }
            servedTest = fullTest;
        }

        /**
         * Where the TF-IDF model hands over to the full model, where the settings ask for a
         * cascade; the run's figures are then the cascade's.
         */
        private void chooseCascade() {
            cascade = null;
            if (settings.cascade()) {
                cascade =
                        Cascading.choose(
                                fullValidation,
                                fittedTfidf.validationProbabilities(),
                                indices(splits.validation(), labels));
                fullEvaluation = evaluation;
                if (cascade.cascades()) {
                    servedTest =
                            Cascading.cascade(
                                    fullTest, fittedTfidf.testProbabilities(), cascade.threshold());
                    evaluation = testEvaluation(servedTest);
                    testEncoderShare =
                            Cascading.encoderShare(
                                    fittedTfidf.testProbabilities(), cascade.threshold());
                }
            }
        }

        private Evaluation testEvaluation(float[][] probabilities) {
            return Evaluation.of(
                    labels, probabilities, indices(splits.test(), labels), groups(splits.test()));
        }

        /** The run folder: the head, the top, the n-gram model and the run manifest. */
        private void writeRun() throws IOException {
            dir = Files.createDirectories(settings.runDir());
            HeadFormat.write(result.head(), dir.resolve(RunManifest.HEAD_FILE));
            // What the job's drift metrics hold live traffic to: how sure the version was here.
            Files.write(
                    dir.resolve(ConfidenceProfile.FILE_NAME),
                    Manifests.toBytes(ConfidenceProfile.of(servedTest)));
            RunManifest.FineTune fineTune = null;
            if (fineTuned != null) {
                TopFormat.write(fineTuned.training().weights(), dir.resolve(FineTunedTop.TOP_FILE));
                fineTune =
                        new RunManifest.FineTune(
                                FineTunedTop.TOP_FILE,
                                fineTuned.spec().firstLayer(),
                                fineTuned.spec().layers());
            }
            RunManifest.Blend blended = null;
            boolean blends = blend != null && blend.blends();
            boolean cascades = cascade != null && cascade.cascades();
            if (blends || cascades) {
                NgramFormat.write(fittedTfidf.classifier(), dir.resolve(NgramFormat.FILE_NAME));
                blended =
                        new RunManifest.Blend(
                                NgramFormat.FILE_NAME,
                                blends ? blend.encoderWeight() : 1,
                                encoderEvaluation.asMetrics(),
                                cascades ? cascade.threshold() : null);
            }
            training = new LinkedHashMap<>(settings.options().asMap());
            training.put("validationFraction", Double.toString(settings.validationFraction()));
            if (test == null) {
                training.put("testFraction", Double.toString(settings.testFraction()));
            } else {
                training.put("testData", test.data().source());
                training.put("testDataSha256", test.hash());
            }
            training.put("trainExamples", Integer.toString(splits.train().size()));
            training.put("bestEpoch", Integer.toString(result.bestEpoch()));
            HeadTrainer.Epoch headBest = result.history().get(result.bestEpoch() - 1);
            training.put("headValidationLoss", Double.toString(headBest.validationLoss()));
            training.put("headValidationAccuracy", Double.toString(headBest.validationAccuracy()));
            if (fineTuned != null) {
                training.putAll(settings.fineTune().asMap());
                FineTuning.Result tuned = fineTuned.training();
                training.put("fineTuneBestEpoch", Integer.toString(tuned.bestEpoch()));
                if (tuned.bestEpoch() > 0) {
                    FineTuning.Epoch best = tuned.history().get(tuned.bestEpoch() - 1);
                    training.put("fineTuneValidationLoss", Double.toString(best.validationLoss()));
                    training.put(
                            "fineTuneValidationAccuracy",
                            Double.toString(best.validationAccuracy()));
                }
                training.put("fineTuneSteps", Long.toString(fineTuned.training().steps()));
                training.put("headOnlyAccuracy", Double.toString(headEvaluation.accuracy()));
            }
            if (selection != null) {
                training.put("poolingByValidationLoss", selection);
            }
            if (blend != null) {
                training.put("blendEncoderWeight", Double.toString(blend.encoderWeight()));
                training.put("blendValidationLoss", Double.toString(blend.validationLoss()));
                training.put(
                        "encoderValidationLoss", Double.toString(blend.encoderValidationLoss()));
                training.put("tfidfValidationLoss", Double.toString(blend.ngramValidationLoss()));
                training.put("encoderOnlyAccuracy", Double.toString(encoderEvaluation.accuracy()));
            }
            if (cascade != null && cascade.cascades()) {
                training.put("cascadeThreshold", Double.toString(cascade.threshold()));
                training.put(
                        "cascadeValidationEncoderShare",
                        Double.toString(cascade.validationEncoderShare()));
                training.put("cascadeTestEncoderShare", Double.toString(testEncoderShare));
                training.put("fullModelAccuracy", Double.toString(fullEvaluation.accuracy()));
            }
            RunManifest manifest =
                    new RunManifest(
                            settings.model(),
                            settings.encoder().contentHash(),
                            chosen,
                            settings.maxSeqLen(),
                            settings.truncation().isHead() ? null : settings.truncation(),
                            labels,
                            evaluation.asMetrics(),
                            dataHash,
                            training,
                            baseline == null ? null : baseline.version(),
                            baseline == null ? null : baseline.evaluation().asMetrics(),
                            Instant.now().toString(),
                            fineTune,
                            new RunManifest.TfidfBaseline(
                                    tfidf.description(),
                                    tfidf.evaluation().asMetrics(),
                                    errorCounts(tfidf.evaluation()),
                                    tfidf.fitTime().toMillis()),
                            blended);
            Files.write(dir.resolve(RunManifest.FILE_NAME), Manifests.toBytes(manifest));
        }

        /** The HTML report beside them. */
        private void writeReport() throws IOException {
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
            if (test != null) {
                facts.put(
                        "test data",
                        test.data().source()
                                + " ("
                                + test.data().examples().size()
                                + " examples, "
                                + test.data().labelCounts()
                                + ")");
            }
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
            facts.put("pooling", chosen.id());
            facts.put("max_seq_len", Integer.toString(settings.maxSeqLen()));
            facts.put("truncation", settings.truncation().id());
            facts.put("features", featureTime.toMillis() + " ms");
            facts.put("head training", headTime.toMillis() + " ms");
            if (fineTuned != null) {
                facts.put("fine-tuning", fineTuned.time().toMillis() + " ms");
            }
            if (blend != null) {
                facts.put("TF-IDF blended in", blend.describe());
                if (blend.blends()) {
                    facts.put(
                            "the encoder model alone on the test set",
                            String.format(
                                    Locale.ROOT,
                                    "accuracy %.4f, macro-F1 %.4f, log-loss %.4f",
                                    encoderEvaluation.accuracy(),
                                    encoderEvaluation.macroF1(),
                                    encoderEvaluation.logLoss()));
                }
            }
            if (cascade != null) {
                facts.put("cascade", cascade.describe());
                facts.put(
                        "cascade on the test set",
                        String.format(
                                Locale.ROOT,
                                "%.1f%% reached the encoder; the full model alone: accuracy %.4f,"
                                        + " macro-F1 %.4f",
                                100 * testEncoderShare,
                                fullEvaluation.accuracy(),
                                fullEvaluation.macroF1()));
            }
            training.forEach(
                    (key, value) -> {
                        if (!key.equals("bestEpoch")) { // the report shows "best epoch N of M"
                            facts.put(key, value);
                        }
                    });
            Files.writeString(
                    dir.resolve(RunManifest.REPORT_FILE),
                    HtmlReport.render(
                            settings.model(),
                            facts,
                            result,
                            evaluation,
                            baseline,
                            fineTuned == null
                                    ? null
                                    : new HtmlReport.FineTuned(
                                            fineTuned.spec().layers(),
                                            fineTuned.training(),
                                            headEvaluation),
                            tfidf),
                    StandardCharsets.UTF_8);
        }
    }

    /**
     * The pooling a run keeps: the head with the lowest validation loss, except that a fine-tuned
     * run keeps [CLS] whenever it was trained. Its head starts fine-tuning, and the fine-tuned
     * layers learn to put what the head needs into [CLS]; a head on the pooler's vector reads
     * dimensions that vary little (standard deviation down to 0.01, where [CLS]'s is above 0.14),
     * so it was fitted with large weights on them, and the first updates to the layers under it
     * moved its answers so far that validation loss roughly doubled in the first epoch
     * (SpamAssassin, 256 tokens, the two splits where the pooler won; worse still with dropout
     * off). From [CLS] the same splits' first epochs stayed within 12% of the start, and the test
     * sets came out 5 and 1 mails better. (Those runs started from the folded head; fine-tuning now
     * starts from a head fitted on raw vectors, see {@link TopTraining}, which was not tried on the
     * pooler.)
     */
    static Pooling choosePooling(Map<Pooling, Double> validationLosses, boolean fineTunes) {
        if (fineTunes && validationLosses.containsKey(Pooling.CLS)) {
            return Pooling.CLS;
        }
        return validationLosses.entrySet().stream()
                .min(Map.Entry.comparingByValue())
                .orElseThrow(() -> new IllegalArgumentException("No pooling to choose from"))
                .getKey();
    }

    /**
     * Each pooling's validation loss, {@code "cls 0.0876 pooler 0.0784 mean 0.1016"}, and why
     * {@code chosen} was kept where it is not the lowest.
     */
    private static String describeChoice(Map<Pooling, Double> validationLosses, Pooling chosen) {
        StringJoiner losses = new StringJoiner(" ");
        validationLosses.forEach(
                (pooling, loss) ->
                        losses.add(String.format(Locale.ROOT, "%s %.4f", pooling.id(), loss)));
        return chosen == choosePooling(validationLosses, false)
                ? losses.toString()
                : losses + "; fine-tuning reads " + chosen.id();
    }

    /**
     * Fits the TF-IDF baseline on the split the BERT model used (C chosen on its validation part)
     * and predicts the same validation and test examples.
     */
    private static TfidfBaseline.Result fitTfidfBaseline(
            Splits splits, List<String> labels, Settings settings) {
        settings.progress()
                .printf(
                        "fitting the TF-IDF baseline on the same %d training examples%n",
                        splits.train().size());
        return TfidfBaseline.fit(
                splits.train(),
                splits.validation(),
                splits.test(),
                labels,
                settings.options().seed());
    }

    private static Map<String, Integer> errorCounts(Evaluation evaluation) {
        Map<String, Integer> errors = new LinkedHashMap<>();
        evaluation.errorsByGroup().forEach((group, counts) -> errors.put(group, counts[1]));
        return errors;
    }

    /** How many encoder layers stay frozen below the fine-tuned top. */
    private static int trunkLayers(Settings settings) {
        int layers = settings.encoder().manifest().transformerLayers();
        int k = settings.fineTune().topLayers();
        if (k >= layers) {
            throw new IllegalArgumentException(
                    "--fine-tune-layers "
                            + k
                            + " leaves no trunk: the encoder has "
                            + layers
                            + " layers; choose at most "
                            + (layers - 1));
        }
        return layers - k;
    }

    private static void checkTestSet(Dataset data, Dataset test) throws DatasetException {
        if (test.isPairTask() != data.isPairTask()) {
            throw new DatasetException(
                    test.source()
                            + " is a "
                            + (test.isPairTask() ? "pair" : "single-text")
                            + " data set, "
                            + data.source()
                            + " is not");
        }
        List<String> unknown =
                test.labels().stream().filter(l -> !data.labels().contains(l)).toList();
        if (!unknown.isEmpty()) {
            throw new DatasetException(
                    test.source()
                            + " has labels "
                            + unknown
                            + " that "
                            + data.source()
                            + " never uses; the head only knows "
                            + data.labels());
        }
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
                || !manifest.textTruncation().equals(settings.truncation())
                || !manifest.labels().equals(labels)) {
            settings.progress()
                    .printf(
                            "note: %s v%d uses another encoder, length, truncation or label set;"
                                    + " not compared%n",
                            bundle.name(), bundle.version());
            return null;
        }
        if (bundle.isFineTuned()) {
            // Its own top reads the trunk at its own split: cached like this run's.
            int trunkLayers = manifest.fineTune().trunkLayers();
            features.prepare(test, trunkLayers);
            try (TrunkStates states =
                    TrunkStates.open(
                            settings.featureCache(),
                            settings.encoder(),
                            settings.maxSeqLen(),
                            settings.truncation(),
                            trunkLayers)) {
                float[][] p =
                        FineTuning.probabilities(
                                bundle.topWeights(), states, test, EVALUATION_BATCH);
                return new HtmlReport.Baseline(
                        bundle.version(),
                        Evaluation.of(
                                labels,
                                answers(bundle, p, test),
                                indices(test, labels),
                                groups(test)));
            }
        }
        float[][] p = bundle.head().probabilities(features.vectors(test, manifest.pooling()));
        return new HtmlReport.Baseline(
                bundle.version(),
                Evaluation.of(
                        labels, answers(bundle, p, test), indices(test, labels), groups(test)));
    }

    /** The version's answers from its head's or top's: blended as the job blends, if it blends. */
    private static float[][] answers(
            ModelBundle bundle, float[][] encoderProbabilities, List<Example> examples) {
        if (!bundle.isBlended()) {
            return encoderProbabilities;
        }
        return NgramBlending.blend(
                encoderProbabilities,
                TfidfBaseline.probabilities(bundle.ngrams(), examples),
                bundle.manifest().ngrams().encoderWeight());
    }

    static int[] indices(List<Example> examples, List<String> labels) {
        int[] y = new int[examples.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = labels.indexOf(examples.get(i).label());
        }
        return y;
    }

    /** Per example, what errors are broken down by: its {@code group} attribute, else its label. */
    public static List<String> groups(List<Example> examples) {
        return examples.stream().map(e -> e.attributes().getOrDefault("group", e.label())).toList();
    }
}
