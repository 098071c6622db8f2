package dev.sift.trainer.cli;

import dev.sift.model.SiftHome;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderEngine;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.tokenize.Truncation;
import dev.sift.trainer.data.Dataset;
import dev.sift.trainer.data.DatasetReader;
import dev.sift.trainer.eval.Evaluation;
import dev.sift.trainer.finetune.FineTuneSettings;
import dev.sift.trainer.train.FineTuneOptions;
import dev.sift.trainer.train.FineTuning;
import dev.sift.trainer.train.HtmlReport;
import dev.sift.trainer.train.TopTraining;
import dev.sift.trainer.train.Training;
import dev.sift.trainer.train.TrainingOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description =
                "Trains a head on frozen encoder features, evaluates it beside the published"
                        + " version, and writes a run folder for 'publish'.")
final class TrainCommand implements Callable<Integer> {

    @Mixin RegistryOption registry;

    @Option(names = "--data", required = true, description = "JSONL, CSV, TSV or Avro file.")
    Path data;

    @Option(
            names = "--test-data",
            description =
                    "A test set of its own (e.g. a corpus' own split), same format and columns as"
                            + " --data; --test is then not used and validation is cut from"
                            + " --data.")
    Path testData;

    @Option(names = "--model", required = true, description = "Model name, e.g. spam.")
    String model;

    @Option(
            names = "--encoder",
            description =
                    "Encoder content hash or name (e.g. all-minilm-l6-v2-int8); optional when the"
                            + " registry has one.")
    String encoder;

    @Option(
            names = "--pooling",
            defaultValue = "auto",
            description =
                    "cls, pooler, mean, or auto: train all three and keep the lowest validation"
                            + " loss, or cls when fine-tuning (default ${DEFAULT-VALUE}).")
    String pooling;

    @Option(
            names = "--max-len",
            defaultValue = "128",
            description =
                    "Tokens per input with specials, up to the encoder's maximum (512 for"
                            + " BERT-base); cost grows with it (default ${DEFAULT-VALUE};"
                            + " longer inputs measured: docs/experiments.md).")
    int maxLen;

    @Option(
            names = "--truncation",
            defaultValue = "head",
            converter = TruncationConverter.class,
            description =
                    "Which tokens of a text longer than --max-len BERT reads: head (its start) or"
                            + " head-tail:N (its first N tokens, then its end), in training and"
                            + " in the job alike (default ${DEFAULT-VALUE}). Pairs are always cut"
                            + " longest-first.")
    Truncation truncation;

    @Mixin ColumnOptions columns;

    @Option(
            names = "--test",
            defaultValue = "0.2",
            description = "Test fraction, stratified (default ${DEFAULT-VALUE}).")
    double testFraction;

    @Option(
            names = "--validation",
            defaultValue = "0.1",
            description = "Validation fraction, stratified (default ${DEFAULT-VALUE}).")
    double validationFraction;

    @Option(
            names = "--seed",
            defaultValue = "42",
            description = "Seed for splits and training (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(
            names = "--epochs",
            defaultValue = "200",
            description = "Most epochs (default ${DEFAULT-VALUE}).")
    int epochs;

    @Option(
            names = "--patience",
            defaultValue = "8",
            description = "Early-stopping patience in epochs (default ${DEFAULT-VALUE}).")
    int patience;

    @Option(
            names = "--lr",
            defaultValue = "0.001",
            description = "Adam learning rate (default ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(
            names = "--l2",
            defaultValue = "0.001",
            description = "L2 on the weights (default ${DEFAULT-VALUE}).")
    double l2;

    @Option(names = "--class-weights", description = "Weigh classes inversely to their frequency.")
    boolean classWeights;

    @Option(
            names = "--encode-batch",
            defaultValue = "32",
            description = "Encoder batch size (default ${DEFAULT-VALUE}).")
    int encodeBatch;

    @Option(
            names = "--fine-tune-layers",
            description =
                    "Train the encoder's top K layers with the head, K up to its layers less"
                            + " one; 0 trains the head alone (default 1 on BERT-base, the fewest"
                            + " errors per minute measured: docs/model-cards/spam.md; 0 on the"
                            + " ONNX encoders, whose float32 imports fine-tune too).")
    Integer fineTuneLayersOption;

    @Option(
            names = "--fine-tune-epochs",
            defaultValue = "3",
            description =
                    "Most fine-tuning epochs; the learning rate decays to 0 over them (default"
                            + " ${DEFAULT-VALUE}).")
    int fineTuneEpochs;

    @Option(
            names = "--fine-tune-lr",
            defaultValue = "5e-5",
            description = "Peak Adam learning rate for fine-tuning (default ${DEFAULT-VALUE}).")
    double fineTuneLearningRate;

    @Option(
            names = "--fine-tune-batch",
            defaultValue = "32",
            description = "Texts per fine-tuning step (default ${DEFAULT-VALUE}).")
    int fineTuneBatch;

    @Option(
            names = "--fine-tune-warmup",
            defaultValue = "0.1",
            description =
                    "Share of fine-tuning steps spent warming the learning rate up (default"
                            + " ${DEFAULT-VALUE}).")
    double fineTuneWarmup;

    @Option(
            names = "--fine-tune-dropout",
            defaultValue = "0.1",
            description =
                    "Dropout in the fine-tuned layers, not on the pooled vector (default"
                            + " ${DEFAULT-VALUE}).")
    double fineTuneDropout;

    @Option(
            names = "--fine-tune-clip",
            defaultValue = "1.0",
            description = "Clip gradients to this global L2 norm (default ${DEFAULT-VALUE}).")
    double fineTuneClip;

    @Option(
            names = "--fine-tune-patience",
            defaultValue = "2",
            description =
                    "Stop fine-tuning after this many epochs without a lower validation loss;"
                            + " the best epoch's weights are kept (default ${DEFAULT-VALUE}).")
    int fineTunePatience;

    @Option(
            names = "--blend-tfidf",
            description =
                    "Blend the TF-IDF baseline into the model, its share chosen on validation"
                            + " data; the job then runs it beside BERT, about 1 ms a record"
                            + " (default off; measured: docs/experiments.md).")
    boolean blendTfidf;

    @Option(
            names = "--cascade",
            description =
                    "Let the TF-IDF model answer alone where it is sure: the lowest confidence"
                            + " that keeps validation accuracy at the full model's, chosen on"
                            + " validation data. Only the other records reach the encoder"
                            + " (default off; measured: docs/model-cards/spam.md).")
    boolean cascade;

    @Option(names = "--out", description = "Run folder (default runs/<model>-<time>).")
    Path out;

    @Option(
            names = "--feature-cache",
            description = "Feature cache folder (default ${DEFAULT-VALUE}).")
    Path featureCache = SiftHome.dir().resolve("features");

    @Override
    public Integer call() throws Exception {
        List<Pooling> poolings = pooling.equals("auto") ? null : List.of(Pooling.of(pooling));
        ModelRegistry models = registry.open();
        ModelRegistry.checkName(model);
        EncoderBundle bundle = resolveEncoder(models, encoder);
        if (poolings == null) {
            poolings = List.copyOf(bundle.manifest().availablePoolings());
        } else if (!bundle.manifest().availablePoolings().contains(poolings.get(0))) {
            throw new IllegalArgumentException(
                    "--pooling "
                            + pooling
                            + ": "
                            + bundle.manifest().name()
                            + " has no pooler; use one of "
                            + bundle.manifest().availablePoolings().stream()
                                    .map(Pooling::id)
                                    .toList());
        }
        DatasetReader reader = new DatasetReader(columns.columns(), 0.5);
        Dataset dataset = reader.read(data);
        report(data, dataset);
        Training.TestSet test = null;
        if (testData != null) {
            Dataset testSet = reader.read(testData);
            report(testData, testSet);
            test = new Training.TestSet(testSet, Training.dataHash(testData));
        }
        Path runDir =
                out != null
                        ? out
                        : Path.of("runs", model + "-" + System.currentTimeMillis() / 1000);
        TrainingOptions options =
                new TrainingOptions(epochs, 64, learningRate, l2, classWeights, patience, seed);
        try {
            truncation.checkFits(maxLen);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "--truncation " + e.getMessage() + " (--max-len " + maxLen + ")", e);
        }
        int fineTuneLayers = fineTuneLayers(bundle);
        // At least one frozen layer stays below the top: the trunk the job's models share.
        int mostLayers = bundle.manifest().transformerLayers() - 1;
        if (fineTuneLayers < 0 || fineTuneLayers > mostLayers) {
            throw new IllegalArgumentException(
                    "--fine-tune-layers takes 0 to "
                            + mostLayers
                            + " on "
                            + bundle.manifest().name()
                            + ", which has "
                            + bundle.manifest().transformerLayers()
                            + " layers; not "
                            + fineTuneLayers);
        }
        FineTuneOptions fineTune =
                new FineTuneOptions(
                        fineTuneLayers,
                        fineTuneEpochs,
                        fineTuneBatch,
                        fineTunePatience,
                        FineTuneSettings.builder()
                                .learningRate(fineTuneLearningRate)
                                .warmupFraction(fineTuneWarmup)
                                .dropout(fineTuneDropout)
                                .clipNorm(fineTuneClip)
                                .seed(seed)
                                .build());
        Training.Outcome outcome =
                Training.run(
                        dataset,
                        Training.dataHash(data),
                        test,
                        Training.Settings.builder(model, models, bundle, runDir)
                                .poolings(poolings)
                                .maxSeqLen(maxLen)
                                .encodeBatchSize(encodeBatch)
                                .split(validationFraction, testFraction)
                                .options(options)
                                .featureCache(featureCache)
                                .fineTune(fineTune)
                                .truncation(truncation)
                                .blendNgrams(blendTfidf)
                                .cascade(cascade)
                                .build());
        Evaluation e = outcome.evaluation();
        System.out.printf(
                Locale.ROOT,
                "%s (%s): accuracy %.4f, macro-F1 %.4f, log-loss %.4f, ECE %.4f on %d test"
                        + " examples; features %.1f s, training %.1f s (head's best epoch %d)%n",
                model,
                outcome.pooling().id(),
                e.accuracy(),
                e.macroF1(),
                e.logLoss(),
                e.expectedCalibrationError(),
                e.size(),
                outcome.featureTime().toMillis() / 1000.0,
                outcome.trainTime().toMillis() / 1000.0,
                outcome.training().bestEpoch());
        printTfidfBaseline(outcome, readsWhat());
        if (outcome.blend() != null) {
            printBlend(outcome);
        }
        if (outcome.cascade() != null) {
            printCascade(outcome);
        }
        if (outcome.fineTuned() != null) {
            printFineTuning(outcome);
        }
        if (outcome.poolingSelection() != null) {
            System.out.println("validation loss by pooling: " + outcome.poolingSelection());
        }
        if (outcome.baseline() != null) {
            Evaluation b = outcome.baseline().evaluation();
            System.out.printf(
                    Locale.ROOT,
                    "published v%d on the same test set: accuracy %.4f, macro-F1 %.4f%n",
                    outcome.baseline().version(),
                    b.accuracy(),
                    b.macroF1());
        }
        e.errorsByGroup()
                .forEach(
                        (group, counts) ->
                                System.out.printf(
                                        Locale.ROOT,
                                        "  %-12s %4d examples, %3d errors%n",
                                        group,
                                        counts[0],
                                        counts[1]));
        System.out.printf(
                "  %-12s %7s %9s %7s %7s%n", "class", "support", "precision", "recall", "F1");
        int[] support = e.support();
        for (int j = 0; j < e.labels().size(); j++) {
            System.out.printf(
                    Locale.ROOT,
                    "  %-12s %7d %9.4f %7.4f %7.4f%n",
                    e.labels().get(j),
                    support[j],
                    e.precision()[j],
                    e.recall()[j],
                    e.f1()[j]);
        }
        System.out.println(
                "run written to "
                        + runDir
                        + " ("
                        + (outcome.fineTuned() != null ? "top.bin, head.bin, " : "head.bin, ")
                        + (outcome.blend() != null && outcome.blend().blends()
                                ? "ngrams.bin, "
                                : "")
                        + "confidence.json, run.json, report.html)");
        List<String> next = new ArrayList<>(List.of("--run", runDir.toString()));
        next.addAll(registry.asArgs());
        System.out.println(NextStep.line("publish", next));
        return 0;
    }

    /** What BERT reads of a long text, for the baseline line. */
    private String readsWhat() {
        if (truncation.isHead()) {
            return "the first " + maxLen + " tokens";
        }
        return maxLen
                + " tokens, the first "
                + truncation.headTokens()
                + " of the text and its last "
                + (maxLen - 2 - truncation.headTokens());
    }

    /** One line: does BERT earn its cost against a model fitted in seconds on the same split? */
    private static void printTfidfBaseline(Training.Outcome outcome, String bertReads) {
        HtmlReport.TfidfColumn tfidf = outcome.tfidfBaseline();
        Evaluation t = tfidf.evaluation();
        System.out.printf(
                Locale.ROOT,
                "TF-IDF baseline: accuracy %.4f, macro-F1 %.4f, log-loss %.4f, ECE %.4f on the same"
                        + " %d test examples; fit %.1f s (%s; the model reads %s)%n",
                t.accuracy(),
                t.macroF1(),
                t.logLoss(),
                t.expectedCalibrationError(),
                t.size(),
                tfidf.fitTime().toMillis() / 1000.0,
                tfidf.description(),
                bertReads);
    }

    /** The blend chosen on validation data and, when there is one, the encoder alone beside it. */
    private static void printBlend(Training.Outcome outcome) {
        System.out.println("TF-IDF blended in: " + outcome.blend().describe());
        if (outcome.blend().blends()) {
            Evaluation alone = outcome.encoderEvaluation();
            System.out.printf(
                    Locale.ROOT,
                    "  encoder alone: accuracy %.4f, macro-F1 %.4f, log-loss %.4f, ECE %.4f; the"
                            + " figures above are the blend's%n",
                    alone.accuracy(),
                    alone.macroF1(),
                    alone.logLoss(),
                    alone.expectedCalibrationError());
        }
    }

    /** The cascade's threshold, and on the test set the share it sent to the encoder. */
    private static void printCascade(Training.Outcome outcome) {
        System.out.println("cascade: " + outcome.cascade().describe());
        Evaluation full = outcome.fullEvaluation();
        System.out.printf(
                Locale.ROOT,
                "  on the test set %.1f%% reached the encoder; the full model alone: accuracy %.4f,"
                        + " macro-F1 %.4f; the figures above are the cascade's%n",
                100 * outcome.testEncoderShare(),
                full.accuracy(),
                full.macroF1());
    }

    private static void printFineTuning(Training.Outcome outcome) {
        TopTraining.Outcome tuned = outcome.fineTuned();
        FineTuning.Result result = tuned.training();
        Evaluation head = outcome.headEvaluation();
        System.out.printf(
                Locale.ROOT,
                "fine-tuned the top %d layer(s) in %.1f s (%d steps, kept epoch %d of %d);"
                        + " head alone: accuracy %.4f, macro-F1 %.4f, log-loss %.4f, ECE %.4f%n",
                tuned.spec().layers(),
                tuned.time().toMillis() / 1000.0,
                result.steps(),
                result.bestEpoch(),
                result.history().size(),
                head.accuracy(),
                head.macroF1(),
                head.logLoss(),
                head.expectedCalibrationError());
        System.out.printf(
                Locale.ROOT,
                "  %-6s %10s %10s %10s %8s%n",
                "epoch",
                "train",
                "valid",
                "valid acc",
                "seconds");
        System.out.printf(
                Locale.ROOT,
                "  %-6s %10s %10.4f %10s %8s%n",
                "start",
                "",
                result.initialValidationLoss(),
                "",
                "");
        for (FineTuning.Epoch epoch : result.history()) {
            System.out.printf(
                    Locale.ROOT,
                    "  %-6d %10.4f %10.4f %10.4f %8.0f%n",
                    epoch.epoch(),
                    epoch.trainLoss(),
                    epoch.validationLoss(),
                    epoch.validationAccuracy(),
                    epoch.time().toMillis() / 1000.0);
        }
    }

    private static void report(Path file, Dataset dataset) {
        for (Dataset.BadRow bad :
                dataset.badRows().subList(0, Math.min(10, dataset.badRows().size()))) {
            System.err.println("skipped " + file + " " + bad);
        }
        System.out.printf(
                "%s: %d examples %s, %d bad rows skipped%n",
                file, dataset.examples().size(), dataset.labelCounts(), dataset.badRows().size());
    }

    /**
     * {@code --fine-tune-layers}, or its default for {@code bundle}'s engine: 1 on BERT-base, 0 (a
     * head on frozen vectors) on the small ONNX encoders, whose heads already come close and train
     * in seconds. Fine-tuning one starts from float32 weights, so an 8-bit graph is refused here,
     * before any encoding.
     */
    private int fineTuneLayers(EncoderBundle bundle) {
        boolean onnx = bundle.manifest().runtime() == EncoderEngine.ONNX_RUNTIME;
        if (fineTuneLayersOption == null) {
            return onnx ? 0 : 1;
        }
        if (onnx
                && fineTuneLayersOption > 0
                && !"float32".equals(bundle.manifest().weightPrecision())) {
            throw new IllegalArgumentException(
                    "--fine-tune-layers "
                            + fineTuneLayersOption
                            + ": "
                            + bundle.manifest().name()
                            + " is an 8-bit graph, and fine-tuning starts from float32 weights;"
                            + " import the encoder's float32 jar and train on it, or use"
                            + " --fine-tune-layers 0");
        }
        return fineTuneLayersOption;
    }

    /** The encoder named by content hash or by name, or the registry's only one. */
    static EncoderBundle resolveEncoder(ModelRegistry models, String hashOrName)
            throws IOException {
        List<EncoderBundle> encoders = models.encoders();
        if (hashOrName != null) {
            List<EncoderBundle> named =
                    encoders.stream().filter(e -> e.manifest().name().equals(hashOrName)).toList();
            return named.size() == 1 ? named.get(0) : models.encoder(hashOrName);
        }
        if (encoders.size() != 1) {
            throw new IllegalArgumentException(
                    "The registry at "
                            + models.root()
                            + " holds "
                            + encoders.size()
                            + " encoders; "
                            + (encoders.isEmpty()
                                    ? "import one with 'sift-trainer import-bert' or"
                                            + " 'import-encoder'"
                                    : "choose one with --encoder "
                                            + encoders.stream()
                                                    .map(EncoderBundle::contentHash)
                                                    .toList()));
        }
        return encoders.get(0);
    }

    /** Parses {@code --truncation}; a bad value's message lists the accepted forms. */
    static final class TruncationConverter implements CommandLine.ITypeConverter<Truncation> {
        @Override
        public Truncation convert(String value) {
            try {
                return Truncation.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
