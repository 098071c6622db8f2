package dev.sift.job.infer;

import dev.sift.model.encode.PassCost;
import dev.sift.model.encode.SharedEncoders;
import dev.sift.model.finetune.SharedTops;
import dev.sift.schemas.ErrorCode;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.apache.flink.metrics.Counter;
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
 * of) and, per encoder ({@code encoder} = the first 12 characters of its content hash), {@code
 * passOverheadTokens}: a forward pass's fixed cost in padded-token equivalents, as measured when
 * the encoder loaded and used by the batch planner. {@code pendingLoads} counts this subtask's
 * version loads under way; {@code encodersLoaded} and {@code topsLive} count what the TaskManager
 * holds for all its subtasks (encoders and fine-tuned tops are shared per JVM): either one rising
 * with every swap is a leak.
 */
final class InferenceMetrics {

    private static final int WINDOW = 1024;

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
    private final Map<String, Map<Long, StageCounts>> stageCounts = new HashMap<>();
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

    /** Answers of one model version by stage. */
    private record StageCounts(Counter encoder, Counter ngram) {}

    /** Counts a result of {@code model} v{@code version}, answered by {@code stage}. */
    void answered(String model, long version, String stage) {
        StageCounts counts =
                stageCounts
                        .computeIfAbsent(model, name -> new HashMap<>())
                        .computeIfAbsent(version, v -> stageCounts(model, v));
        ("ngram".equals(stage) ? counts.ngram() : counts.encoder()).inc();
    }

    private StageCounts stageCounts(String model, long version) {
        MetricGroup versionGroup = modelGroup(model).addGroup("version", Long.toString(version));
        Counter encoder = versionGroup.counter("answeredByEncoder");
        Counter ngram = versionGroup.counter("answeredByNgram");
        versionGroup.gauge(
                "encoderSharePct",
                () -> {
                    long all = encoder.getCount() + ngram.getCount();
                    return all == 0 ? 100 : 100 * encoder.getCount() / all;
                });
        return new StageCounts(encoder, ngram);
    }

    /**
     * Removes a retired model's gauges. Flink's public {@link MetricGroup} cannot unregister a
     * metric, but the groups its runtime hands out can be closed, which unregisters everything in
     * them from every reporter; a later {@code addGroup} with the same name opens a fresh one.
     */
    void modelRetired(String model) {
        stageCounts.remove(model);
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
