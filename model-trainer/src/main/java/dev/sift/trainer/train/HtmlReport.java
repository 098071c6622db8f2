package dev.sift.trainer.train;

import static dev.sift.trainer.train.Svg.escape;

import dev.sift.trainer.eval.Evaluation;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A self-contained HTML page about one training run: settings, data, curves, the confusion matrix,
 * per-class figures, errors by group, and beside the new figures those of the serving version and
 * of the TF-IDF baseline on the same test set.
 *
 * <p>Built with a StringBuilder rather than a template engine: the page is a fixed sequence of
 * tables over records, every value goes through {@link Svg#escape}, and a test reads the rendered
 * page. A template engine (Mustache, Pebble) would add a dependency and move the markup into a
 * resource without removing a loop; it earns its place when the report gains a second layout.
 */
public final class HtmlReport {

    /** The figures of the version currently published, measured on this run's test set. */
    public record Baseline(long version, Evaluation evaluation) {}

    /**
     * A fine-tuning stage: its per-epoch figures, and the run's head-only model (trained on frozen
     * features) on the same test set.
     */
    public record FineTuned(int topLayers, FineTuning.Result training, Evaluation headOnly) {}

    /**
     * A simple model fitted on the same split (the TF-IDF baseline), to hold BERT against.
     *
     * @param fitTime fitting, every regularisation strength tried included; null for a model that
     *     was not fitted on this run's split (a published version's own n-gram model)
     */
    public record TfidfColumn(String description, Evaluation evaluation, Duration fitTime) {}

    private HtmlReport() {}

    /**
     * The report of a run (or, with {@code training} null, of an evaluation: no curves), with the
     * TF-IDF baseline's figures (when {@code tfidf} is given) in a column of their own beside the
     * run's, in the test-set and errors-by-group tables.
     */
    public static String render(
            String model,
            Map<String, String> facts,
            HeadTrainer.Result training,
            Evaluation evaluation,
            Baseline baseline,
            FineTuned fineTuned,
            TfidfColumn tfidf) {
        StringBuilder html = new StringBuilder();
        html.append("<!doctype html><html><head><meta charset='utf-8'><title>")
                .append(escape(model))
                .append(" training report</title><style>")
                .append("body{font-family:sans-serif;margin:2em;max-width:1000px}")
                .append("table{border-collapse:collapse;margin:1em 0}")
                .append("td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}")
                .append("th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}")
                .append("</style></head><body><h1>")
                .append(escape(model))
                .append("</h1>");

        html.append("<h2>Run</h2><table>");
        facts.forEach(
                (key, value) ->
                        html.append("<tr><td>")
                                .append(escape(key))
                                .append("</td><td>")
                                .append(escape(value))
                                .append("</td></tr>"));
        if (training == null) {
            html.append("</table>");
        } else {
            html.append("<tr><td>best epoch</td><td>")
                    .append(training.bestEpoch())
                    .append(" of ")
                    .append(training.history().size())
                    .append("</td></tr></table>");
            trainingCurves(html, training.history());
        }

        if (fineTuned != null) {
            fineTuningSection(html, fineTuned);
        }

        html.append("<h2>Test set</h2><table><tr><th>metric</th><th>this run</th>");
        if (fineTuned != null) {
            html.append("<th>head only (frozen encoder)</th>");
        }
        if (baseline != null) {
            html.append("<th>published v").append(baseline.version()).append("</th>");
        }
        if (tfidf != null) {
            html.append("<th>TF-IDF baseline</th>");
        }
        html.append("</tr>");
        Map<String, Double> ours = evaluation.asMetrics();
        Map<String, Double> headOnly = fineTuned == null ? null : fineTuned.headOnly().asMetrics();
        Map<String, Double> theirs = baseline == null ? null : baseline.evaluation().asMetrics();
        Map<String, Double> tfidfs = tfidf == null ? null : tfidf.evaluation().asMetrics();
        ours.forEach(
                (name, value) -> {
                    html.append("<tr><td>").append(escape(name)).append("</td><td>");
                    html.append(format(value)).append("</td>");
                    if (headOnly != null) {
                        html.append("<td>").append(format(headOnly.get(name))).append("</td>");
                    }
                    if (theirs != null) {
                        html.append("<td>").append(format(theirs.get(name))).append("</td>");
                    }
                    if (tfidfs != null) {
                        html.append("<td>").append(format(tfidfs.get(name))).append("</td>");
                    }
                    html.append("</tr>");
                });
        html.append("</table>");
        if (tfidf != null) {
            html.append("<p>TF-IDF baseline: ").append(escape(tfidf.description()));
            if (tfidf.fitTime() != null) {
                html.append(
                                String.format(
                                        Locale.ROOT,
                                        "; fitted on the same training split in %.1f s",
                                        tfidf.fitTime().toMillis() / 1000.0))
                        .append(" (C chosen on the same validation split)");
            }
            html.append(".</p>");
        }
        html.append(
                Svg.confusionMatrix(
                        "Confusion matrix (test)", evaluation.labels(), evaluation.confusion()));

        if (!evaluation.errorsByGroup().isEmpty()) {
            html.append("<h2>Errors by group</h2><table><tr><th>group</th><th>examples</th>")
                    .append("<th>errors</th><th>error rate</th>")
                    .append(tfidf == null ? "" : "<th>TF-IDF baseline errors</th>")
                    .append("</tr>");
            Map<String, int[]> tfidfErrors =
                    tfidf == null ? null : tfidf.evaluation().errorsByGroup();
            evaluation
                    .errorsByGroup()
                    .forEach(
                            (group, counts) ->
                                    html.append("<tr><td>")
                                            .append(escape(group))
                                            .append("</td><td>")
                                            .append(counts[0])
                                            .append("</td><td>")
                                            .append(counts[1])
                                            .append("</td><td>")
                                            .append(
                                                    String.format(
                                                            Locale.ROOT,
                                                            "%.1f%%",
                                                            100.0 * counts[1] / counts[0]))
                                            .append("</td>")
                                            .append(
                                                    tfidfErrors == null
                                                            ? ""
                                                            : "<td>"
                                                                    + tfidfErrors
                                                                            .getOrDefault(
                                                                                    group,
                                                                                    new int[2])[1]
                                                                    + "</td>")
                                            .append("</tr>"));
            html.append("</table>");
        }
        return html.append("</body></html>").toString();
    }

    private static void trainingCurves(StringBuilder html, List<HeadTrainer.Epoch> history) {
        double[] trainLoss = history.stream().mapToDouble(HeadTrainer.Epoch::trainLoss).toArray();
        double[] validationLoss =
                history.stream().mapToDouble(HeadTrainer.Epoch::validationLoss).toArray();
        double[] trainAccuracy =
                history.stream().mapToDouble(HeadTrainer.Epoch::trainAccuracy).toArray();
        double[] validationAccuracy =
                history.stream().mapToDouble(HeadTrainer.Epoch::validationAccuracy).toArray();
        html.append("<h2>Training curves</h2>")
                .append(
                        Svg.lineChart(
                                "Cross-entropy",
                                "epoch",
                                List.of(
                                        new Svg.Series("train", "#1f77b4", trainLoss),
                                        new Svg.Series("validation", "#d62728", validationLoss))))
                .append(
                        Svg.lineChart(
                                "Accuracy",
                                "epoch",
                                List.of(
                                        new Svg.Series("train", "#1f77b4", trainAccuracy),
                                        new Svg.Series(
                                                "validation", "#d62728", validationAccuracy))));
    }

    private static void fineTuningSection(StringBuilder html, FineTuned fineTuned) {
        FineTuning.Result result = fineTuned.training();
        List<FineTuning.Epoch> epochs = result.history();
        html.append("<h2>Fine-tuning: the top ")
                .append(fineTuned.topLayers())
                .append(fineTuned.topLayers() == 1 ? " layer" : " layers")
                .append(" with the head</h2><table>")
                .append("<tr><th>epoch</th><th>train loss</th><th>validation loss</th>")
                .append("<th>validation accuracy</th><th>seconds</th></tr>")
                .append("<tr><td>0 (start)</td><td></td><td>")
                .append(format(result.initialValidationLoss()))
                .append("</td><td></td><td></td></tr>");
        for (FineTuning.Epoch epoch : epochs) {
            html.append("<tr><td>")
                    .append(epoch.epoch())
                    .append(epoch.epoch() == result.bestEpoch() ? " (kept)" : "")
                    .append("</td><td>")
                    .append(format(epoch.trainLoss()))
                    .append("</td><td>")
                    .append(format(epoch.validationLoss()))
                    .append("</td><td>")
                    .append(format(epoch.validationAccuracy()))
                    .append("</td><td>")
                    .append(epoch.time().toSeconds())
                    .append("</td></tr>");
        }
        html.append("</table>");
        if (result.bestEpoch() == 0) {
            html.append(
                    "<p>No epoch lowered the validation loss; the run keeps the start: BERT's own"
                            + " layers and the head fitted on raw frozen vectors.</p>");
        }
        html.append(
                        Svg.lineChart(
                                "Fine-tuning cross-entropy",
                                "epoch",
                                List.of(
                                        new Svg.Series(
                                                "train",
                                                "#1f77b4",
                                                epochs.stream()
                                                        .mapToDouble(FineTuning.Epoch::trainLoss)
                                                        .toArray()),
                                        new Svg.Series(
                                                "validation",
                                                "#d62728",
                                                epochs.stream()
                                                        .mapToDouble(
                                                                FineTuning.Epoch::validationLoss)
                                                        .toArray()))))
                .append(
                        Svg.lineChart(
                                "Fine-tuning validation accuracy",
                                "epoch",
                                List.of(
                                        new Svg.Series(
                                                "validation",
                                                "#d62728",
                                                epochs.stream()
                                                        .mapToDouble(
                                                                FineTuning.Epoch
                                                                        ::validationAccuracy)
                                                        .toArray()))));
    }

    private static String format(Double value) {
        if (value == null) {
            return "";
        }
        return value == Math.rint(value) && Math.abs(value) >= 1
                ? String.format(Locale.ROOT, "%.0f", value)
                : String.format(Locale.ROOT, "%.4f", value);
    }
}
