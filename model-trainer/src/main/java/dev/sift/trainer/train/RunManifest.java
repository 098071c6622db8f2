package dev.sift.trainer.train;

import dev.sift.model.encode.Pooling;
import java.util.List;
import java.util.Map;

/**
 * {@code run.json} of a training run folder (next to {@code head.bin} and {@code report.html}):
 * what {@code publish} needs to turn the run into a model version, and the serving version it was
 * compared against on the same test set.
 */
public record RunManifest(
        String model,
        String encoderHash,
        Pooling pooling,
        int maxSeqLen,
        List<String> labels,
        Map<String, Double> metrics,
        String trainingDataHash,
        Map<String, String> training,
        Long baselineVersion,
        Map<String, Double> baselineMetrics,
        String createdAt) {

    public static final String FILE_NAME = "run.json";
    public static final String HEAD_FILE = "head.bin";
    public static final String REPORT_FILE = "report.html";
}
