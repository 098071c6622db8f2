package dev.sift.job.infer;

import dev.sift.job.sink.DeadLetterCounters;
import dev.sift.model.encode.PassCost;
import dev.sift.model.encode.SharedEncoders;
import dev.sift.model.finetune.SharedTops;
import dev.sift.model.tokenize.TokenizedInput;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ErrorCode;
import dev.sift.serving.models.LoadedModel;
import dev.sift.serving.monitor.AgreementWindow;
import dev.sift.serving.monitor.DriftWindow;
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
 *
 * <p>A shadow version's answers feed its own drift gauges but not {@code answeredByEncoder} or
 * {@code answeredByNgram}, which count the traffic a version serves; they are counted in its {@code
 * shadowAnswers}, compared with the serving version's answer to the same request in {@code
 * shadowCompared} and {@code shadowAgreed} (counters: sum them over subtasks), {@code
 * shadowAgreementPct} (the last 1,000 comparisons on the subtask) and, per {@code servingLabel} and
 * {@code shadowLabel}, {@code shadowPairs}: the confusion between the two. {@code shadowOnlyPasses}
 * counts the encoder passes run for shadow versions alone, the cost a shadow on an encoder of its
 * own adds; one on the serving version's encoder adds its head or top only.
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
    final Counter shadowOnlyPasses;
    final Histogram batchSize;
    final Histogram batchLatencyMs;
    final Histogram endToEndLatencyMs;
    final Histogram paddingEfficiencyPct;
    private final DeadLetterCounters deadLetters;
    private final Map<String, MetricGroup> modelGroups = new HashMap<>();
    private final Map<String, Map<Long, VersionMetrics>> versionMetrics = new HashMap<>();
    private final Set<String> registeredEncoders = new HashSet<>();
    private final MetricGroup group;

    /** Written by the operator thread, read by reporters: volatile, not the buffer itself. */
    private volatile int queueDepth;

    InferenceMetrics(MetricGroup group) {
        this.group = group;
        deadLetters = new DeadLetterCounters(group);
        requestsIn = group.counter("requestsIn");
        resultsOut = group.counter("resultsOut");
        modelsRefused = group.counter("modelsRefused");
        encoderPasses = group.counter("encoderPasses");
        trunkPasses = group.counter("trunkPasses");
        topRuns = group.counter("topRuns");
        shadowOnlyPasses = group.counter("shadowOnlyPasses");
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
        deadLetters.inc(code);
    }

    void queueDepth(int depth) {
        queueDepth = depth;
    }

    /**
     * Registers a model's gauges when it is first recorded or serves: {@code activeVersion}, the
     * version serving on this subtask (0 while none does), and {@code servingBehind}, 1 while that
     * is not the version broadcast state records (it has not loaded here, and is being retried);
     * {@code shadowVersion} and {@code canaryVersion}, the versions on trial here (0 for none).
     */
    void modelServing(
            String model,
            Supplier<OptionalLong> version,
            BooleanSupplier behind,
            Supplier<OptionalLong> shadowVersion,
            Supplier<OptionalLong> canaryVersion) {
        modelGroups.computeIfAbsent(
                model,
                name -> {
                    MetricGroup modelGroup = group.addGroup("model", name);
                    modelGroup.gauge("activeVersion", () -> version.get().orElse(0));
                    modelGroup.gauge("servingBehind", () -> behind.getAsBoolean() ? 1 : 0);
                    modelGroup.gauge("shadowVersion", () -> shadowVersion.get().orElse(0));
                    modelGroup.gauge("canaryVersion", () -> canaryVersion.get().orElse(0));
                    return modelGroup;
                });
    }

    /** The model's group: registered when it began to serve, or a new one. */
    private MetricGroup modelGroup(String model) {
        MetricGroup modelGroup = modelGroups.get(model);
        return modelGroup != null ? modelGroup : group.addGroup("model", model);
    }

    /** Answers of one model version: by stage, and the window its drift gauges read. */
    private static final class VersionMetrics {
        final MetricGroup group;
        final Counter encoder;
        final Counter ngram;
        final DriftWindow drift;

        /** Registered when the version first answers as a shadow. */
        ShadowMetrics shadow;

        VersionMetrics(MetricGroup group, Counter encoder, Counter ngram, DriftWindow drift) {
            this.group = group;
            this.encoder = encoder;
            this.ngram = ngram;
            this.drift = drift;
        }

        ShadowMetrics shadow() {
            if (shadow == null) {
                shadow = new ShadowMetrics(group);
            }
            return shadow;
        }
    }

    /** A shadow version's answers, and how they compare with the serving version's. */
    private static final class ShadowMetrics {
        final MetricGroup group;
        final Counter answers;
        final Counter compared;
        final Counter agreed;
        final AgreementWindow window = new AgreementWindow(DRIFT_WINDOW);
        final Map<String, Counter> pairs = new HashMap<>();

        ShadowMetrics(MetricGroup group) {
            this.group = group;
            answers = group.counter("shadowAnswers");
            compared = group.counter("shadowCompared");
            agreed = group.counter("shadowAgreed");
            group.gauge("shadowAgreementPct", (Gauge<Double>) window::agreementPct);
        }

        void compare(String servingLabel, String shadowLabel) {
            boolean same = servingLabel.equals(shadowLabel);
            compared.inc();
            if (same) {
                agreed.inc();
            }
            window.add(same);
            pairs.computeIfAbsent(
                            servingLabel + "\u0000" + shadowLabel,
                            k ->
                                    group.addGroup("servingLabel", servingLabel)
                                            .addGroup("shadowLabel", shadowLabel)
                                            .counter("shadowPairs"))
                    .inc();
        }
    }

    /**
     * Counts {@code result} under its model and version, by the stage that answered it, and adds it
     * to the version's drift window. {@code servedBy} is the version that answered (its labels,
     * token limit and test-set profile), {@code tokens} the request's tokens, or null where none
     * were computed.
     */
    void answered(ClassificationResult result, LoadedModel servedBy, TokenizedInput tokens) {
        VersionMetrics metrics = versionMetrics(result, servedBy);
        ("ngram".equals(result.getStage()) ? metrics.ngram : metrics.encoder).inc();
        addToDrift(metrics, result, servedBy, tokens);
    }

    /**
     * Counts a shadow version's answer, adds it to the version's drift window, and compares it with
     * {@code serving}, the serving version's answer to the same request (null where that request
     * got none from the model, which cannot happen while the shadow runs beside it).
     */
    void shadowAnswered(
            ClassificationResult shadow,
            ClassificationResult serving,
            LoadedModel servedBy,
            TokenizedInput tokens) {
        VersionMetrics metrics = versionMetrics(shadow, servedBy);
        ShadowMetrics compared = metrics.shadow();
        compared.answers.inc();
        if (serving != null) {
            compared.compare(serving.getLabel().toString(), shadow.getLabel().toString());
        }
        addToDrift(metrics, shadow, servedBy, tokens);
    }

    private VersionMetrics versionMetrics(ClassificationResult result, LoadedModel servedBy) {
        return versionMetrics
                .computeIfAbsent(result.getModel(), name -> new HashMap<>())
                .computeIfAbsent(result.getModelVersion(), v -> register(result, servedBy));
    }

    private static void addToDrift(
            VersionMetrics metrics,
            ClassificationResult result,
            LoadedModel servedBy,
            TokenizedInput tokens) {
        if (tokens == null || servedBy == null) {
            metrics.drift.add(result.getProbability(), result.getLabelIndex());
            return;
        }
        int unknownId = servedBy.tokenizer().unknownTokenId();
        int unknown = 0;
        for (int id : tokens.ids()) {
            unknown += id == unknownId ? 1 : 0;
        }
        metrics.drift.add(
                result.getProbability(),
                result.getLabelIndex(),
                tokens.length(),
                tokens.length() >= servedBy.manifest().maxSeqLen(),
                unknown);
    }

    private VersionMetrics register(ClassificationResult result, LoadedModel servedBy) {
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
        return new VersionMetrics(versionGroup, encoder, ngram, drift);
    }

    /** The drift window of {@code model} v{@code version} on this subtask, if it has answered. */
    DriftWindow drift(String model, long version) {
        VersionMetrics metrics = versionMetrics.getOrDefault(model, Map.of()).get(version);
        return metrics == null ? null : metrics.drift;
    }

    /** What a shadow version's metrics on this subtask read. */
    record ShadowFigures(long answers, long compared, long agreed, double agreementPct) {}

    /** The shadow figures of {@code model} v{@code version}; null if it never answered as one. */
    ShadowFigures shadow(String model, long version) {
        VersionMetrics metrics = versionMetrics.getOrDefault(model, Map.of()).get(version);
        if (metrics == null || metrics.shadow == null) {
            return null;
        }
        ShadowMetrics shadow = metrics.shadow;
        return new ShadowFigures(
                shadow.answers.getCount(),
                shadow.compared.getCount(),
                shadow.agreed.getCount(),
                shadow.window.agreementPct());
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
