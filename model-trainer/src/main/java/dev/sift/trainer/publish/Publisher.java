package dev.sift.trainer.publish;

import dev.sift.model.bundle.ConfidenceProfile;
import dev.sift.model.bundle.Manifests;
import dev.sift.model.finetune.TopFormat;
import dev.sift.model.head.HeadFormat;
import dev.sift.model.ngram.NgramFormat;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelDraft;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.trainer.train.RunManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * Turns a training run into the next version of its model. A run that scores worse than the
 * published version on the same test set by more than {@code margin} (in the chosen metric) is
 * refused unless forced, and so is a run compared against a version that is no longer the latest:
 * its comparison no longer says anything about what it would replace.
 */
public final class Publisher {

    /** The registry refused, or would have refused without {@code --force}; says why. */
    public static final class RefusedException extends Exception {
        private static final long serialVersionUID = 1L;

        RefusedException(String message) {
            super(message);
        }
    }

    private Publisher() {}

    public static ModelBundle publish(
            ModelRegistry registry, Path runDir, String metric, double margin, boolean force)
            throws IOException, RefusedException {
        return publish(registry, runDir, metric, margin, force, false);
    }

    /**
     * As above; {@code int8Top} serves a fine-tuned top with 8-bit matrix multiplies (only on an
     * ONNX encoder). The run's metrics are its float32 top's, as trained, and are recorded as such:
     * {@code sift-trainer evaluate} measures what the int8 top answers.
     */
    public static ModelBundle publish(
            ModelRegistry registry,
            Path runDir,
            String metric,
            double margin,
            boolean force,
            boolean int8Top)
            throws IOException, RefusedException {
        RunManifest run = Manifests.read(runDir, RunManifest.FILE_NAME, RunManifest.class);
        OptionalLong latest = registry.latestVersion(run.model());
        if (!force) {
            check(run, latest, metric, margin);
        }
        ModelDraft.Builder draft =
                ModelDraft.builder(run.model(), run.encoderHash())
                        .pooling(run.pooling())
                        .maxSeqLen(run.maxSeqLen())
                        .truncation(run.truncation())
                        .metrics(run.metrics())
                        .parentVersion(latest.isPresent() ? latest.getAsLong() : null)
                        .trainingDataHash(run.trainingDataHash())
                        .training(run.training())
                        .attachments(attachments(runDir));
        if (run.fineTune() != null) {
            // The fine-tuned top carries its own head; head.bin (the frozen-feature head it
            // started from) stays in the run folder.
            draft.fineTuned(TopFormat.read(runDir.resolve(run.fineTune().file())), run.labels());
            if (int8Top) {
                draft.int8Top();
                Map<String, String> training = new TreeMap<>(run.training());
                training.put("topPrecision", "int8; the metrics are the float32 top's, as trained");
                draft.training(training);
            }
        } else if (int8Top) {
            throw new RefusedException(
                    "run "
                            + runDir
                            + " trained a head on frozen features; only a fine-tuned top"
                            + " (train --fine-tune-layers) can be served int8");
        } else {
            draft.head(HeadFormat.read(runDir.resolve(RunManifest.HEAD_FILE), run.labels()));
        }
        if (run.blend() != null) {
            var ngrams = NgramFormat.read(runDir.resolve(run.blend().file()));
            if (run.blend().cascadeThreshold() != null) {
                draft.cascade(ngrams, run.blend().encoderWeight(), run.blend().cascadeThreshold());
            } else {
                draft.blend(ngrams, run.blend().encoderWeight());
            }
        }
        return registry.publish(draft.build());
    }

    /**
     * The report, and the confidence profile the job's drift metrics compare live traffic with
     * (runs written before it existed have none).
     */
    private static Map<String, Path> attachments(Path runDir) {
        Map<String, Path> attachments = new TreeMap<>();
        attachments.put(RunManifest.REPORT_FILE, runDir.resolve(RunManifest.REPORT_FILE));
        Path confidence = runDir.resolve(ConfidenceProfile.FILE_NAME);
        if (Files.isRegularFile(confidence)) {
            attachments.put(ConfidenceProfile.FILE_NAME, confidence);
        }
        return attachments;
    }

    static void check(RunManifest run, OptionalLong latest, String metric, double margin)
            throws RefusedException {
        if (latest.isEmpty()) {
            return;
        }
        long current = latest.getAsLong();
        if (run.baselineVersion() == null) {
            throw new RefusedException(
                    String.format(
                            Locale.ROOT,
                            "%s v%d is published but this run was not compared with it (another"
                                    + " encoder, length or label set). Use --force to publish"
                                    + " anyway.",
                            run.model(),
                            current));
        }
        if (run.baselineVersion() != current) {
            throw new RefusedException(
                    String.format(
                            Locale.ROOT,
                            "This run was compared with %s v%d, but v%d has been published since."
                                    + " Train again to compare on the same test set, or use"
                                    + " --force.",
                            run.model(),
                            run.baselineVersion(),
                            current));
        }
        Double ours = run.metrics().get(metric);
        Double theirs = run.baselineMetrics().get(metric);
        if (ours == null || theirs == null) {
            throw new IllegalArgumentException(
                    "Unknown metric '" + metric + "'; the run has " + run.metrics().keySet());
        }
        if (theirs - ours > margin) {
            throw new RefusedException(
                    String.format(
                            Locale.ROOT,
                            "%s v%d scores %s %.4f on this run's test set and this run %.4f:"
                                    + " worse by %.4f, more than the margin %.4f. Use --force to"
                                    + " publish anyway.",
                            run.model(),
                            current,
                            metric,
                            theirs,
                            ours,
                            theirs - ours,
                            margin));
        }
    }
}
