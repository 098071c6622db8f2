package dev.sift.trainer.train;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.tokenize.Truncation;
import java.util.List;
import java.util.Map;

/**
 * {@code run.json} of a training run folder (next to {@code head.bin} and {@code report.html}, and
 * {@code top.bin} for a fine-tuned run): what {@code publish} needs to turn the run into a model
 * version, the serving version it was compared against on the same test set, and the TF-IDF
 * baseline fitted on the same split. {@code fineTune} is null (and absent from the JSON) for a
 * head-only run; {@code tfidfBaseline} is absent from runs written before the baseline was wired
 * in. {@code truncation} is null (and absent) for a run that read the head of long texts. {@code
 * blend} is null (and absent) unless the run's model blends the baseline in ({@code
 * --blend-tfidf}); then {@code metrics} are the blend's.
 */
public record RunManifest(
        String model,
        String encoderHash,
        Pooling pooling,
        int maxSeqLen,
        @JsonInclude(JsonInclude.Include.NON_NULL) Truncation truncation,
        List<String> labels,
        Map<String, Double> metrics,
        String trainingDataHash,
        Map<String, String> training,
        Long baselineVersion,
        Map<String, Double> baselineMetrics,
        String createdAt,
        @JsonInclude(JsonInclude.Include.NON_NULL) FineTune fineTune,
        @JsonInclude(JsonInclude.Include.NON_NULL) TfidfBaseline tfidfBaseline,
        @JsonInclude(JsonInclude.Include.NON_NULL) Blend blend) {

    /**
     * A fine-tuned run's top: its file in the run folder ({@code top.bin}, model-core's {@code
     * TopFormat}, head included) and where it sits on the encoder.
     *
     * @param trunkLayers the encoder layers that stay frozen below the top
     * @param topLayers K, the layers the top owns
     */
    public record FineTune(String file, int trunkLayers, int topLayers) {}

    /**
     * The TF-IDF baseline on this run's split: what it is, the figures of the same {@code
     * Evaluation} as {@code metrics}, its errors per group of the test set, and how long fitting
     * took (every C tried).
     */
    public record TfidfBaseline(
            String description,
            Map<String, Double> metrics,
            Map<String, Integer> errorsByGroup,
            long fitMillis) {}

    /**
     * The TF-IDF baseline blended into the run's model: its file ({@code ngrams.bin}, model-core's
     * {@code NgramFormat}), the head's or top's share of the blend, and the head's or top's own
     * figures on the test set, before blending; with {@code train --cascade} also the threshold
     * from which the n-gram model answers alone (then {@code encoderWeight} is 1 where the run does
     * not blend), else null and left out of the JSON.
     */
    public record Blend(
            String file,
            double encoderWeight,
            Map<String, Double> encoderMetrics,
            @JsonInclude(JsonInclude.Include.NON_NULL) Double cascadeThreshold) {}

    public static final String FILE_NAME = "run.json";
    public static final String HEAD_FILE = "head.bin";
    public static final String REPORT_FILE = "report.html";
}
