package dev.sift.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sift.model.ngram.NgramClassifier;
import dev.sift.model.registry.ModelBundle;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.LabelProbability;
import dev.sift.serving.classify.BatchClassifier;
import dev.sift.serving.models.LoadedModel;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.trainer.data.Dataset;
import dev.sift.trainer.data.DatasetReader;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.eval.Evaluation;
import dev.sift.trainer.train.HtmlReport;
import dev.sift.trainer.train.Training;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sift-trainer evaluate}: scores a labeled file against a published version, with the
 * figures {@code train} reports (accuracy, macro-F1, per-class F1, log-loss, calibration, errors by
 * group). The version answers through the job's own loader and batch classifier, so the figures are
 * the job's; a blended version's n-gram model alone is scored beside it.
 */
@Command(
        name = "evaluate",
        description =
                "Scores a labeled JSONL, CSV, TSV or Avro file against a published version, as the"
                        + " job would answer it; no training.")
final class EvaluateCommand implements Callable<Integer> {

    /** The file {@code --out} gets beside {@code report.html}. */
    static final String EVALUATION_FILE = "evaluation.json";

    @Mixin HelpOption help;

    @Mixin ServedVersionOptions served;

    @Option(
            names = "--data",
            required = true,
            description = "Labeled JSONL, CSV, TSV or Avro file.")
    Path data;

    @Mixin ColumnOptions columns;

    @Option(
            names = "--out",
            description = "Folder for report.html and " + EVALUATION_FILE + " (default: none).")
    Path out;

    @Override
    public Integer call() throws Exception {
        Dataset dataset = new DatasetReader(columns.columns(), 0.5).read(data);
        if (!dataset.badRows().isEmpty()) {
            System.err.printf(
                    "%s: %d rows skipped, first %s%n",
                    data, dataset.badRows().size(), dataset.badRows().get(0));
        }
        List<Example> examples = dataset.examples();
        try (ServedVersionOptions.Served version = served.load()) {
            LoadedModel model = version.model();
            List<String> labels = model.labels();
            requireKnownLabels(examples, labels, model);
            float[][] answers = answers(model, examples);
            int[] y = examples.stream().mapToInt(e -> labels.indexOf(e.label())).toArray();
            List<String> groups = Training.groups(examples);
            Evaluation evaluation = Evaluation.of(labels, answers, y, groups);
            HtmlReport.TfidfColumn ngrams = ngramsAlone(version.bundle(), examples, y, groups);
            print(model, examples.size(), evaluation, ngrams);
            if (out != null) {
                write(model, evaluation, ngrams);
            }
        }
        return 0;
    }

    /** Each example's label probabilities, as the job answers its request. */
    private static float[][] answers(LoadedModel model, List<Example> examples) {
        long now = System.currentTimeMillis();
        List<ClassifyRequest> requests = new ArrayList<>(examples.size());
        for (int i = 0; i < examples.size(); i++) {
            Example example = examples.get(i);
            ClassifyRequest request = new ClassifyRequest();
            request.id = Integer.toString(i);
            request.text = example.text();
            request.textB = example.textB();
            request.models = List.of(model.name());
            request.attributes = Map.of();
            request.eventTimeMillis = now;
            requests.add(request);
        }
        List<BatchClassifier.Outcome> outcomes =
                new BatchClassifier(
                                BatchClassifier.DEFAULT_MAX_BATCH_SIZE,
                                BatchClassifier.DEFAULT_MAX_BATCH_TOKENS)
                        .classifyAll(
                                requests,
                                Map.of(model.name(), model),
                                List.of(),
                                Clock.systemUTC());
        float[][] answers = new float[examples.size()][];
        for (int i = 0; i < answers.length; i++) {
            BatchClassifier.Outcome outcome = outcomes.get(i);
            if (outcome.refused()) {
                throw new IllegalStateException(
                        "Example " + (i + 1) + " was refused: " + outcome.reason());
            }
            ClassificationResult result = outcome.results().get(0);
            List<LabelProbability> probabilities = result.getProbabilities();
            answers[i] = new float[probabilities.size()];
            for (int j = 0; j < answers[i].length; j++) {
                answers[i][j] = (float) probabilities.get(j).getProbability();
            }
        }
        return answers;
    }

    private static void requireKnownLabels(
            List<Example> examples, List<String> labels, LoadedModel model) {
        TreeSet<String> unknown = new TreeSet<>();
        examples.stream()
                .map(Example::label)
                .filter(l -> !labels.contains(l))
                .forEach(unknown::add);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(
                    "The data has labels "
                            + unknown
                            + " that "
                            + model
                            + " does not know; its labels are "
                            + labels
                            + " (is --label-column right?)");
        }
    }

    /** A blended version's n-gram model on its own; null for a version that blends none. */
    private static HtmlReport.TfidfColumn ngramsAlone(
            ModelBundle bundle, List<Example> examples, int[] y, List<String> groups) {
        if (!bundle.isBlended()) {
            return null;
        }
        NgramClassifier ngrams = bundle.ngrams();
        float[][] p = new float[examples.size()][];
        for (int i = 0; i < p.length; i++) {
            Example e = examples.get(i);
            p[i] = ngrams.probabilities(NgramClassifier.text(e.text(), e.textB()));
        }
        return new HtmlReport.TfidfColumn(
                "the version's own n-gram model, alone",
                Evaluation.of(bundle.manifest().labels(), p, y, groups),
                null);
    }

    private static void print(
            LoadedModel model, int examples, Evaluation evaluation, HtmlReport.TfidfColumn ngrams) {
        System.out.printf("%s v%d on %d examples%n", model.name(), model.version(), examples);
        System.out.printf(
                "%-28s %10s%s%n", "metric", "version", ngrams == null ? "" : "    n-grams");
        Map<String, Double> theirs = ngrams == null ? null : ngrams.evaluation().asMetrics();
        evaluation
                .asMetrics()
                .forEach(
                        (name, value) ->
                                System.out.printf(
                                        Locale.ROOT,
                                        "%-28s %10.4f%s%n",
                                        name,
                                        value,
                                        theirs == null
                                                ? ""
                                                : String.format(
                                                        Locale.ROOT, " %10.4f", theirs.get(name))));
    }

    private void write(LoadedModel model, Evaluation evaluation, HtmlReport.TfidfColumn ngrams)
            throws java.io.IOException {
        Files.createDirectories(out);
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("model", model.name() + " v" + model.version());
        facts.put("data", data.toString());
        facts.put("encoder", model.manifest().encoder().contentHash());
        Files.writeString(
                out.resolve("report.html"),
                HtmlReport.render(model.name(), facts, null, evaluation, null, null, ngrams),
                StandardCharsets.UTF_8);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", model.name());
        json.put("version", model.version());
        json.put("data", data.toString());
        json.put("metrics", evaluation.asMetrics());
        json.put("confusion", evaluation.confusion());
        json.put("labels", evaluation.labels());
        if (ngrams != null) {
            json.put("ngramMetrics", ngrams.evaluation().asMetrics());
        }
        new ObjectMapper()
                .enable(SerializationFeature.INDENT_OUTPUT)
                .writeValue(out.resolve(EVALUATION_FILE).toFile(), json);
        System.out.println("Wrote " + out.resolve("report.html") + " and " + EVALUATION_FILE);
    }
}
