package dev.sift.job.infer;

import dev.sift.model.encode.PassCost;
import dev.sift.model.encode.SharedEncoders;
import dev.sift.model.finetune.SharedTops;
import dev.sift.model.tokenize.TokenizedInput;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ErrorCode;
import dev.sift.serving.models.LoadedModel;
import dev.sift.serving.monitor.DriftWindow;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.metrics.groups.AbstractMetricGroup;

/**
 * The inference operator's metrics, as they appear in the Flink dashboard under the operator:
 * {@code requestsIn}, {@code resultsOut}, {@code deadLetters} by {@code code}, {@code batchSize},
 * {@code batchLatencyMs}, {@code endToEndLatencyMs}, {@code paddingEfficiencyPct}, {@code
 * queueDepth}, {@code modelsRefused}, {@code encoderPasses}, {@code trunkPasses} (encoder passes
 * that fetched a trunk for fine-tuned models: one per batch however many of them share it), {@code
 * topRuns} (fine-tuned tops run on a trunk), per model {@code activeVersion} and {@code
 * servingBehind}, per model and {@code version} {@code answeredByEncoder}, {@code answeredByNgram}
 * and {@code encoderSharePct} (of that version's answers on this subtask, the share the encoder
 * gave: below 100 only for a cascading version, whose n-gram model answers the records it is sure
 * of), the drift gauges of each version over its last 1,000 answers on the subtask ({@code
 * meanTopProbability}, {@code lowConfidencePct} under 0.7, {@code confidencePsi} against the
 * version's test set, {@code meanTokens}, {@code atLengthLimitPct}, {@code unknownTokenPct}, and
 * per {@code label} {@code answerPct}) and, per encoder ({@code encoder} = the first 12 characters
 * of its content hash), {@code passOverheadTokens}: a forward pass's fixed cost in padded-token
 * equivalents, as measured when the encoder loaded and used by the batch planner. {@code
 * pendingLoads} counts this subtask's version loads under way; {@code encodersLoaded} and {@code
 * topsLive} count what the TaskManager holds for all its subtasks (encoders and fine-tuned tops are
 * shared per JVM): either one rising with every swap is a leak.
 */
final class InferenceMetrics {

    private static final int WINDOW = 1024;

    /** Answers per model version the drift gauges cover, on each subtask. */
    static final int DRIFT_WINDOW = 1000;

    /** The top probability under which an answer counts as unsure ({@code lowConfidencePct}). */
    static final double LOW_CONFIDENCE = 0.7;

    final Counter requestsIn;
    final Counter resultsOut;
    final Counter modelsRefused;
    final Counter encoderPasses;
    final Counter trunkPasses;
    final Counter topRuns;
    final Histogram batchSize;
    final Histogram batchLatencyMs;
    final Histogram endToEndLatencyMs;
    final Histogram paddingEfficiencyPct;
    private final Map<ErrorCode, Counter> deadLetters = new EnumMap<>(ErrorCode.class);
    private final Map<String, MetricGroup> modelGroups = new HashMap<>();
    private final Map<String, Map<Long, VersionMetrics>> versionMetrics = new HashMap<>();
    private final Set<String> registeredEncoders = new HashSet<>();
    private final MetricGroup group;

    /** Written by the operator thread, read by reporters: volatile, not the buffer itself. */
    private volatile int queueDepth;

    InferenceMetrics(MetricGroup group) {
        this.group = group;
        requestsIn = group.counter("requestsIn");
        resultsOut = group.counter("resultsOut");
        modelsRefused = group.counter("modelsRefused");
        encoderPasses = group.counter("encoderPasses");
        trunkPasses = group.counter("trunkPasses");
        topRuns = group.counter("topRuns");
        batchSize = group.histogram("batchSize", new DescriptiveStatisticsHistogram(WINDOW));
        batchLatencyMs =
                group.histogram("batchLatencyMs", new DescriptiveStatisticsHistogram(WINDOW));
        endToEndLatencyMs =
                group.histogram("endToEndLatencyMs", new DescriptiveStatisticsHistogram(WINDOW));
        paddingEfficiencyPct =
                group.histogram("paddingEfficiencyPct", new DescriptiveStatisticsHistogram(WINDOW));
        group.gauge("queueDepth", () -> queueDepth);
        group.gauge("encodersLoaded", SharedEncoders::loadedCount);
        group.gauge("topsLive", SharedTops::liveCount);
    }

    /** Registers {@code pendingLoads}, the model versions this subtask is verifying or loading. */
    void loads(IntSupplier pending) {
        group.gauge("pendingLoads", pending::getAsInt);
    }

    void deadLetter(ErrorCode code) {
        deadLetters
                .computeIfAbsent(code, c -> group.addGroup("code", c.name()).counter("deadLetters"))
                .inc();
    }

    void queueDepth(int depth) {
        queueDepth = depth;
    }

    /**
     * Registers a model's gauges when it is first recorded or serves: {@code activeVersion}, the
     * version serving on this subtask (0 while none does), and {@code servingBehind}, 1 while that
     * is not the version broadcast state records (it has not loaded here, and is being retried).
     */
    void modelServing(String model, Supplier<OptionalLong> version, BooleanSupplier behind) {
        modelGroups.computeIfAbsent(
                model,
                name -> {
                    MetricGroup modelGroup = group.addGroup("model", name);
                    modelGroup.gauge("activeVersion", () -> version.get().orElse(0));
                    modelGroup.gauge("servingBehind", () -> behind.getAsBoolean() ? 1 : 0);
                    return modelGroup;
                });
    }

    /** The model's group: registered when it began to serve, or a new one. */
    private MetricGroup modelGroup(String model) {
        MetricGroup modelGroup = modelGroups.get(model);
        return modelGroup != null ? modelGroup : group.addGroup("model", model);
    }

    /** Answers of one model version: by stage, and the window its drift gauges read. */
    private record VersionMetrics(Counter encoder, Counter ngram, DriftWindow drift) {}

    /**
     * Counts {@code result} under its model and version, by the stage that answered it, and adds it
     * to the version's drift window. {@code servedBy} is the version that answered (its labels,
     * token limit and test-set profile), {@code tokens} the request's tokens, or null where none
     * were computed.
     */
    void answered(ClassificationResult result, LoadedModel servedBy, TokenizedInput tokens) {
        VersionMetrics metrics =
                versionMetrics
                        .computeIfAbsent(result.getModel(), name -> new HashMap<>())
                        .computeIfAbsent(
                                result.getModelVersion(), v -> versionMetrics(result, servedBy));
        ("ngram".equals(result.getStage()) ? metrics.ngram() : metrics.encoder()).inc();
        if (tokens == null || servedBy == null) {
            metrics.drift().add(result.getProbability(), result.getLabelIndex());
            return;
        }
        int unknownId = servedBy.tokenizer().unknownTokenId();
        int unknown = 0;
        for (int id : tokens.ids()) {
            unknown += id == unknownId ? 1 : 0;
        }
        metrics.drift()
                .add(
                        result.getProbability(),
                        result.getLabelIndex(),
                        tokens.length(),
                        tokens.length() >= servedBy.manifest().maxSeqLen(),
                        unknown);
    }

    private VersionMetrics versionMetrics(ClassificationResult result, LoadedModel servedBy) {
        MetricGroup versionGroup =
                modelGroup(result.getModel())
                        .addGroup("version", Long.toString(result.getModelVersion()));
        Counter encoder = versionGroup.counter("answeredByEncoder");
        Counter ngram = versionGroup.counter("answeredByNgram");
        versionGroup.gauge(
                "encoderSharePct",
                () -> {
                    long all = encoder.getCount() + ngram.getCount();
                    return all == 0 ? 100 : 100 * encoder.getCount() / all;
                });
        List<String> labels =
                servedBy != null
                        ? servedBy.labels()
                        : result.getProbabilities().stream()
                                .map(p -> p.getLabel().toString())
                                .toList();
        DriftWindow drift =
                new DriftWindow(
                        DRIFT_WINDOW,
                        servedBy == null ? null : servedBy.confidenceProfile().orElse(null),
                        labels.size(),
                        LOW_CONFIDENCE);
        versionGroup.gauge("meanTopProbability", (Gauge<Double>) drift::meanTopProbability);
        versionGroup.gauge("lowConfidencePct", (Gauge<Double>) drift::lowConfidencePct);
        versionGroup.gauge("confidencePsi", (Gauge<Double>) drift::stabilityIndex);
        versionGroup.gauge("meanTokens", (Gauge<Double>) drift::meanTokens);
        versionGroup.gauge("atLengthLimitPct", (Gauge<Double>) drift::atLengthLimitPct);
        versionGroup.gauge("unknownTokenPct", (Gauge<Double>) drift::unknownTokenPct);
        for (int i = 0; i < labels.size(); i++) {
            int index = i;
            versionGroup
                    .addGroup("label", labels.get(i))
                    .gauge("answerPct", (Gauge<Double>) () -> drift.labelPct(index));
        }
        return new VersionMetrics(encoder, ngram, drift);
    }

    /** The drift window of {@code model} v{@code version} on this subtask, if it has answered. */
    DriftWindow drift(String model, long version) {
        VersionMetrics metrics = versionMetrics.getOrDefault(model, Map.of()).get(version);
        return metrics == null ? null : metrics.drift();
    }

    /**
     * Removes a retired model's gauges. Flink's public {@link MetricGroup} cannot unregister a
     * metric, but the groups its runtime hands out can be closed, which unregisters everything in
     * them from every reporter; a later {@code addGroup} with the same name opens a fresh one.
     */
    void modelRetired(String model) {
        versionMetrics.remove(model);
        MetricGroup modelGroup = modelGroups.remove(model);
        if (modelGroup instanceof AbstractMetricGroup<?> closable) {
            closable.close();
        }
    }

    /**
     * Registers the pass-overhead gauge of an encoder the first time a model on it serves. The
     * figure is fixed for as long as the encoder stays loaded in this JVM.
     */
    void encoderServing(String contentHash, PassCost cost) {
        String encoder = contentHash.substring(0, Math.min(12, contentHash.length()));
        if (registeredEncoders.add(encoder)) {
            int overhead = cost.overheadTokens();
            group.addGroup("encoder", encoder).gauge("passOverheadTokens", () -> overhead);
        }
    }
}
