package dev.sift.job.infer;

import dev.sift.job.decode.ClassifyRequest;
import dev.sift.job.models.ActiveVersion;
import dev.sift.job.models.LoadedModel;
import dev.sift.job.models.ModelLoader;
import dev.sift.job.sink.DeadLetters;
import dev.sift.job.sink.OutRecord;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.schemas.AnnouncementSignatures;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.schemas.RecordCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Micro-batched inference with hot-swappable models. Input 1 carries requests, input 2 the model
 * announcements as their Avro bytes (broadcast to every subtask, decoded here).
 *
 * <p>Requests wait in a buffer that is flushed when it holds {@code maxBatchSize} requests or
 * {@code maxBatchTokens} tokens, when the oldest has waited {@code maxWaitMillis}, before every
 * checkpoint barrier and at end of input. A flush classifies the whole buffer (see {@link
 * BatchClassifier}) and emits outcomes in arrival order, so the buffer is always empty when state
 * is snapshotted: nothing buffered can be lost or replayed twice.
 *
 * <p>Which version of each model serves is broadcast state. An announcement is verified on arrival
 * (signature, manifest hash, file hashes, shapes); a bad one is refused and counted, and the
 * serving version stays. A good one is recorded in state and loaded on a background thread; the
 * swap itself happens on the operator thread between records. On restore each subtask loads what
 * the state names; with empty state it serves the newest version of every registry model.
 */
public final class InferenceOperator extends AbstractStreamOperator<OutRecord>
        implements TwoInputStreamOperator<ClassifyRequest, byte[], OutRecord>,
                BoundedMultiInput,
                ProcessingTimeCallback {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(InferenceOperator.class);

    /** Model name to the version that should serve. */
    public static final MapStateDescriptor<String, ActiveVersion> ACTIVE_MODELS =
            new MapStateDescriptor<>("sift-active-models", String.class, ActiveVersion.class);

    /** How often pending model loads are checked for completion while no records arrive. */
    private static final long LOAD_POLL_MILLIS = 100;

    private final InferenceSettings settings;

    private transient BroadcastState<String, ActiveVersion> activeModels;
    private transient ModelLoader loader;
    private transient BatchClassifier classifier;
    private transient InferenceMetrics metrics;
    private transient Map<String, LoadedModel> serving;
    private transient List<ClassifyRequest> buffer;
    private transient List<BatchClassifier.Tokens> bufferTokens;
    private transient int bufferedTokens;
    private transient long flushDeadline;
    private transient ExecutorService loadExecutor;
    private transient ConcurrentLinkedQueue<LoadOutcome> loaded;
    private transient int pendingLoads;
    private transient RecordCodec<ClassificationResult> resultCodec;
    private transient RecordCodec<ModelAnnouncement> announcementCodec;

    private record LoadOutcome(String name, long version, LoadedModel model, Exception failure) {}

    public InferenceOperator(InferenceSettings settings) {
        this.settings = settings;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        activeModels = context.getOperatorStateStore().getBroadcastState(ACTIVE_MODELS);
    }

    @Override
    public void open() throws Exception {
        super.open();
        loader = new ModelLoader(ModelRegistry.at(Path.of(settings.registry())), publicKey());
        classifier = new BatchClassifier(settings.maxBatchSize(), settings.maxBatchTokens());
        serving = new HashMap<>();
        buffer = new ArrayList<>();
        bufferTokens = new ArrayList<>();
        loaded = new ConcurrentLinkedQueue<>();
        resultCodec = RecordCodec.of(ClassificationResult.class);
        announcementCodec = RecordCodec.of(ModelAnnouncement.class);
        loadExecutor =
                Executors.newSingleThreadExecutor(
                        r -> {
                            Thread thread = new Thread(r, "sift-model-loader");
                            thread.setDaemon(true);
                            return thread;
                        });
        metrics = new InferenceMetrics(getMetricGroup(), () -> buffer.size());
        flushDeadline = Long.MAX_VALUE;
        if (activeModels.entries().iterator().hasNext()) {
            restoreFromState();
        } else {
            startFromRegistry();
        }
    }

    /** Restore: serve exactly the versions the checkpoint recorded. */
    private void restoreFromState() {
        for (var entry : List.copyOf(toMap(activeModels).entrySet())) {
            ActiveVersion version = entry.getValue();
            try {
                ModelBundle bundle =
                        loader.verify(entry.getKey(), version.version, version.manifestSha256);
                serve(loader.load(bundle));
            } catch (Exception e) {
                // The registry lost or changed what the state names: serve nothing for this
                // model rather than something unverified; requests naming it are dead-lettered.
                LOG.error(
                        "Cannot restore {} v{}: {}",
                        entry.getKey(),
                        version.version,
                        e.getMessage());
                metrics.modelsRefused.inc();
                removeState(entry.getKey());
            }
        }
    }

    /** Fresh start: serve the newest version of every model in the registry. */
    private void startFromRegistry() throws Exception {
        ModelRegistry registry = loader.registry();
        for (String name : registry.models()) {
            List<Long> versions = registry.versions(name);
            // Newest first; a version that fails verification is skipped for the one before it.
            for (int i = versions.size() - 1; i >= 0; i--) {
                try {
                    ModelBundle bundle = registry.open(name, versions.get(i));
                    serve(loader.load(bundle));
                    activeModels.put(
                            name, new ActiveVersion(bundle.version(), bundle.manifestSha256()));
                    break;
                } catch (Exception e) {
                    LOG.error("Refusing {} v{}: {}", name, versions.get(i), e.getMessage());
                    metrics.modelsRefused.inc();
                }
            }
        }
        LOG.info("Serving {}", serving.values());
    }

    @Override
    public void processElement1(StreamRecord<ClassifyRequest> element) throws Exception {
        applyLoadedModels();
        ClassifyRequest request = element.getValue();
        metrics.requestsIn.inc();
        if (buffer.isEmpty()) {
            flushDeadline =
                    getProcessingTimeService().getCurrentProcessingTime()
                            + settings.maxWaitMillis();
            getProcessingTimeService().registerTimer(flushDeadline, this);
        }
        BatchClassifier.Tokens tokens = tokenize(request);
        buffer.add(request);
        bufferTokens.add(tokens);
        bufferedTokens += tokens == null ? 0 : tokens.input().length();
        if (buffer.size() >= settings.maxBatchSize()
                || bufferedTokens >= settings.maxBatchTokens()) {
            flush();
        }
    }

    @Override
    public void processElement2(StreamRecord<byte[]> element) throws Exception {
        applyLoadedModels();
        ModelAnnouncement announcement;
        try {
            announcement = announcementCodec.decode(element.getValue());
        } catch (Exception e) {
            // The topic is the trainer's; a stray record there must not stop classification.
            LOG.error("Skipping an undecodable model announcement: {}", e.getMessage());
            metrics.modelsRefused.inc();
            return;
        }
        String name = announcement.getName();
        ModelAction action = announcement.getAction();
        ActiveVersion current = activeModels.get(name);
        if (action == ModelAction.RETIRE) {
            flush(); // what arrived under this model is still served by it
            removeState(name);
            LoadedModel retired = serving.remove(name);
            if (retired != null) {
                retired.close();
            }
            LOG.info("Retired {}", name);
            return;
        }
        if (action != ModelAction.ACTIVATE && action != ModelAction.ROLL_BACK) {
            LOG.warn(
                    "Ignoring announcement with unknown action for {} v{}",
                    name,
                    announcement.getVersion());
            return;
        }
        if (action == ModelAction.ACTIVATE
                && current != null
                && announcement.getVersion() <= current.version) {
            LOG.info(
                    "Ignoring stale activation of {} v{}: v{} is active (use ROLL_BACK to go back)",
                    name,
                    announcement.getVersion(),
                    current.version);
            return;
        }
        ModelBundle bundle;
        try {
            bundle = loader.verify(announcement);
        } catch (Exception e) {
            LOG.error("Refused {} v{}: {}", name, announcement.getVersion(), e.getMessage());
            metrics.modelsRefused.inc();
            return;
        }
        activeModels.put(name, new ActiveVersion(bundle.version(), bundle.manifestSha256()));
        pendingLoads++;
        loadExecutor.execute(
                () -> {
                    try {
                        loaded.add(
                                new LoadOutcome(name, bundle.version(), loader.load(bundle), null));
                    } catch (Exception e) {
                        loaded.add(new LoadOutcome(name, bundle.version(), null, e));
                    }
                });
        getProcessingTimeService()
                .registerTimer(
                        getProcessingTimeService().getCurrentProcessingTime() + LOAD_POLL_MILLIS,
                        this);
    }

    @Override
    public void onProcessingTime(long time) throws Exception {
        applyLoadedModels();
        if (!buffer.isEmpty() && time >= flushDeadline) {
            flush();
        }
        if (pendingLoads > 0) {
            getProcessingTimeService().registerTimer(time + LOAD_POLL_MILLIS, this);
        }
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flush();
    }

    @Override
    public void endInput(int inputId) throws Exception {
        if (inputId == 1) {
            flush();
        }
    }

    @Override
    public void finish() throws Exception {
        flush();
        super.finish();
    }

    @Override
    public void close() throws Exception {
        try {
            if (loadExecutor != null) {
                loadExecutor.shutdownNow();
                loadExecutor.awaitTermination(30, TimeUnit.SECONDS);
            }
            if (loaded != null) {
                applyLoadedModels();
            }
            if (serving != null) {
                serving.values().forEach(LoadedModel::close);
                serving.clear();
            }
        } finally {
            super.close();
        }
    }

    /** Blocks until every announced load finished and swaps them in; for tests. */
    void awaitLoads() throws Exception {
        while (pendingLoads > 0) {
            if (loaded.isEmpty()) {
                Thread.sleep(10);
            }
            applyLoadedModels();
        }
    }

    /** Versions serving right now, by model; for tests. */
    Map<String, Long> servingVersions() {
        Map<String, Long> versions = new HashMap<>();
        serving.forEach((name, model) -> versions.put(name, model.version()));
        return versions;
    }

    /** Versions the broadcast state names, by model; for tests. */
    Map<String, Long> activeVersions() {
        Map<String, Long> versions = new HashMap<>();
        toMap(activeModels).forEach((name, active) -> versions.put(name, active.version));
        return versions;
    }

    private void flush() throws Exception {
        applyLoadedModels();
        if (buffer.isEmpty()) {
            return;
        }
        long start = System.nanoTime();
        BatchClassifier.Flush flush =
                classifier.classify(
                        buffer, bufferTokens, serving, settings.defaultModels(), Clock.systemUTC());
        for (BatchClassifier.Outcome outcome : flush.outcomes()) {
            if (outcome.refused()) {
                metrics.deadLetter(outcome.errorCode());
                output.collect(
                        new StreamRecord<>(
                                DeadLetters.of(
                                        outcome.request(),
                                        outcome.errorCode(),
                                        outcome.reason(),
                                        settings.deadLetterTopic())));
                continue;
            }
            for (ClassificationResult result : outcome.results()) {
                metrics.resultsOut.inc();
                metrics.endToEndLatencyMs.update(result.getLatencyMillis());
                output.collect(
                        new StreamRecord<>(
                                new OutRecord(
                                        settings.resultsTopic(),
                                        result.getId().getBytes(StandardCharsets.UTF_8),
                                        resultCodec.encode(result))));
            }
        }
        for (BatchClassifier.Pass pass : flush.passes()) {
            metrics.batchSize.update(pass.size());
            metrics.paddingEfficiencyPct.update(Math.round(100 * pass.paddingEfficiency()));
        }
        metrics.batchLatencyMs.update((System.nanoTime() - start) / 1_000_000);
        buffer.clear();
        bufferTokens.clear();
        bufferedTokens = 0;
        flushDeadline = Long.MAX_VALUE;
    }

    /** Swaps in models whose loads finished; runs on the operator thread only. */
    private void applyLoadedModels() throws Exception {
        for (LoadOutcome outcome; (outcome = loaded.poll()) != null; ) {
            pendingLoads--;
            ActiveVersion wanted = activeModels.get(outcome.name());
            if (outcome.failure() != null) {
                LOG.error(
                        "Refused {} v{}: {}",
                        outcome.name(),
                        outcome.version(),
                        outcome.failure().getMessage());
                metrics.modelsRefused.inc();
                if (wanted != null && wanted.version == outcome.version()) {
                    LoadedModel current = serving.get(outcome.name());
                    if (current != null) {
                        activeModels.put(
                                outcome.name(),
                                new ActiveVersion(
                                        current.version(), current.bundle().manifestSha256()));
                    } else {
                        removeState(outcome.name());
                    }
                }
            } else if (wanted != null && wanted.version == outcome.version()) {
                serve(outcome.model());
            } else {
                outcome.model().close(); // superseded while it loaded
            }
        }
    }

    private void serve(LoadedModel model) {
        LoadedModel previous = serving.put(model.name(), model);
        if (previous != null) {
            previous.close();
        }
        metrics.modelServing(
                model.name(),
                () -> {
                    LoadedModel now = serving.get(model.name());
                    return now == null ? 0 : now.version();
                });
        LOG.info("Now serving {} (was {})", model, previous);
    }

    /**
     * Tokens of the request for the first model it will run on, counted against the token budget
     * and kept for the flush; null when that model is unknown (dead-lettered at flush).
     */
    private BatchClassifier.Tokens tokenize(ClassifyRequest request) {
        String name =
                !request.models.isEmpty()
                        ? request.models.get(0)
                        : !settings.defaultModels().isEmpty()
                                ? settings.defaultModels().get(0)
                                : serving.keySet().stream().sorted().findFirst().orElse("");
        LoadedModel model = serving.get(name);
        return model == null
                ? null
                : new BatchClassifier.Tokens(
                        model.encoderKey(), BatchClassifier.tokenize(model, request));
    }

    private void removeState(String name) {
        try {
            activeModels.remove(name);
        } catch (Exception e) {
            throw new IllegalStateException("Cannot update broadcast state", e);
        }
    }

    private PublicKey publicKey() throws Exception {
        String pem = settings.announcementPublicKeyPem();
        return pem == null ? null : AnnouncementSignatures.publicKey(pem, "the announcement key");
    }

    private static <K, V> Map<K, V> toMap(BroadcastState<K, V> state) {
        Map<K, V> map = new HashMap<>();
        try {
            for (var entry : state.entries()) {
                map.put(entry.getKey(), entry.getValue());
            }
        } catch (Exception e) {
            throw new IllegalStateException("Cannot read broadcast state", e);
        }
        return map;
    }
}
