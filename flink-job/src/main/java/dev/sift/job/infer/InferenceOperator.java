package dev.sift.job.infer;

import dev.sift.job.feedback.Answer;
import dev.sift.job.models.ActiveVersion;
import dev.sift.job.sink.DeadLetters;
import dev.sift.job.sink.OutRecord;
import dev.sift.job.sink.OutRecords;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.tokenize.TokenizedInput;
import dev.sift.schemas.AnnouncementSignatures;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.schemas.RecordCodec;
import dev.sift.schemas.RecordDecodingException;
import dev.sift.serving.classify.BatchClassifier;
import dev.sift.serving.models.AcceptedVersion;
import dev.sift.serving.models.AcceptedVersion.TrialKind;
import dev.sift.serving.models.DeviceChoice;
import dev.sift.serving.models.LoadedModel;
import dev.sift.serving.models.LoadedTrials;
import dev.sift.serving.models.ModelLoader;
import dev.sift.serving.models.ModelManager;
import dev.sift.serving.models.Registries;
import dev.sift.serving.request.ClassifyRequest;
import java.io.IOException;
import java.security.PublicKey;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Micro-batched inference with hot-swappable models. Input 1 carries requests, input 2 the model
 * announcements as their Avro bytes (broadcast to every subtask, decoded here).
 *
 * <p>Requests wait in a buffer that is flushed when it holds {@code batchLookAhead} passes' worth
 * ({@code batchLookAhead × maxBatchSize} requests or {@code batchLookAhead × maxBatchTokens}
 * tokens), when the oldest has waited {@code maxWaitMillis}, before every checkpoint barrier, at
 * end of input and before a model is retired. A flush classifies the whole buffer (see {@link
 * BatchClassifier}), which still cuts encoder passes of at most {@code maxBatchSize} inputs and
 * {@code maxBatchTokens} padded tokens, and emits outcomes in arrival order at its end, so the
 * buffer is always empty when state is snapshotted: nothing buffered can be lost or replayed twice.
 *
 * <p>The look-ahead is there because the planner can only sort what the buffer holds: with one
 * pass's worth of mixed lengths, every pass is padded to its longest input or split into more, each
 * paying the encoder's fixed overhead; with several passes' worth, similar lengths from across the
 * window share a pass. The price is latency under saturation (a request can wait for up to {@code
 * batchLookAhead} passes); under light load {@code maxWaitMillis} flushes first.
 *
 * <p>Which version of each model serves is decided by {@link ModelManager}; this operator holds the
 * buffer, the timers and the broadcast state. The state records the last accepted announcement per
 * model and is written only from data every subtask reads alike, so their copies agree (Flink's
 * contract for broadcast state): the broadcast announcements, in the same order everywhere, and, on
 * a fresh start, the announcements the registry recorded, read once when this operator was built
 * (on the client, before the job graph is shipped) rather than by each subtask at its own time. On
 * restore each subtask serves what the state names; loading and verifying are each subtask's own,
 * off the task thread, retried while the version that served before keeps serving.
 */
public final class InferenceOperator extends AbstractStreamOperator<OutRecord>
        implements TwoInputStreamOperator<ClassifyRequest, byte[], OutRecord>,
                BoundedMultiInput,
                ProcessingTimeCallback {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(InferenceOperator.class);

    /** Model name to the last announcement accepted for it. */
    public static final MapStateDescriptor<String, ActiveVersion> ACTIVE_MODELS =
            new MapStateDescriptor<>("sift-active-models", String.class, ActiveVersion.class);

    /**
     * Every answer the job gives, shadow versions' included, for the feedback join: emitted only
     * where {@link InferenceSettings#emitAnswers()} asks for it.
     */
    public static final OutputTag<Answer> ANSWERS =
            new OutputTag<>("sift-answers", TypeInformation.of(Answer.class));

    /** How often pending model loads are checked for completion while no records arrive. */
    private static final long LOAD_POLL_MILLIS = 100;

    private final InferenceSettings settings;

    /** What the registry recorded when this operator was built: a fresh start obeys it. */
    private final List<byte[]> startAnnouncements;

    private transient BroadcastState<String, ActiveVersion> activeModels;
    private transient DeviceChoice device;
    private transient ModelManager models;
    private transient BatchClassifier classifier;
    private transient InferenceMetrics metrics;
    private transient List<ClassifyRequest> buffer;
    private transient List<BatchClassifier.Tokens> bufferTokens;
    private transient int bufferedTokens;
    private transient long flushDeadline;

    /** When the pending load poll fires; {@code Long.MIN_VALUE} while none is pending. */
    private transient long pollAt;

    private transient RecordCodec<ModelAnnouncement> announcementCodec;

    /**
     * Reads the announcements the registry recorded for the models {@code settings} serves, here
     * and now: build the operator where the job is built, so every subtask starts from them.
     */
    public InferenceOperator(InferenceSettings settings) throws IOException {
        this.settings = settings;
        this.startAnnouncements =
                List.copyOf(
                        ModelManager.recordedAnnouncements(
                                Registries.open(settings.registry()), settings.servedModels()));
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        activeModels = context.getOperatorStateStore().getBroadcastState(ACTIVE_MODELS);
    }

    @Override
    public void open() throws Exception {
        super.open();
        classifier = new BatchClassifier(settings.maxBatchSize(), settings.maxBatchTokens());
        buffer = new ArrayList<>();
        bufferTokens = new ArrayList<>();
        announcementCodec = RecordCodec.of(ModelAnnouncement.class);
        metrics = new InferenceMetrics(getMetricGroup());
        device =
                DeviceChoice.choose(
                        getRuntimeContext().getExternalResourceInfos(DeviceChoice.GPU_RESOURCE),
                        TensorFlowEncoder.visibleGpuCount(),
                        getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
        models =
                new ModelManager(
                        new ModelLoader(
                                Registries.open(settings.registry()),
                                device.device(),
                                settings.encoderPrecision()),
                        publicKey(),
                        settings.servedModels(),
                        new ModelManager.Events() {
                            @Override
                            public void refused(String model, String reason) {
                                metrics.modelsRefused.inc();
                            }

                            @Override
                            public void serving(String model) {
                                watch(model);
                                var loaded = models.serving().get(model);
                                metrics.encoderServing(
                                        loaded.manifest().encoder().contentHash(),
                                        loaded.passCost());
                            }

                            @Override
                            public void retired(String model) {
                                metrics.modelRetired(model);
                            }
                        });
        metrics.loads(models::pendingLoads);
        flushDeadline = Long.MAX_VALUE;
        pollAt = Long.MIN_VALUE;
        Map<String, AcceptedVersion> state = new HashMap<>();
        for (var entry : activeModels.entries()) {
            state.put(entry.getKey(), entry.getValue().accepted());
        }
        if (!state.isEmpty()) {
            models.restore(state);
        } else {
            for (var entry : models.start(startAnnouncements).entrySet()) {
                activeModels.put(entry.getKey(), ActiveVersion.of(entry.getValue()));
            }
        }
        models.accepted().forEach((model, recorded) -> watch(model));
        pollWhileLoading(getProcessingTimeService().getCurrentProcessingTime());
    }

    @Override
    public void processElement1(StreamRecord<ClassifyRequest> element) throws Exception {
        models.applyFinishedLoads();
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
        metrics.queueDepth(buffer.size());
        bufferedTokens += tokens == null ? 0 : tokens.input().length();
        if (buffer.size() >= settings.flushRequests() || bufferedTokens >= settings.flushTokens()) {
            flush();
        }
    }

    @Override
    public void processElement2(StreamRecord<byte[]> element) throws Exception {
        models.applyFinishedLoads();
        ModelAnnouncement announcement;
        try {
            announcement = announcementCodec.decode(element.getValue());
        } catch (RecordDecodingException e) {
            // The topic is the trainer's; a stray record there must not stop classification.
            LOG.error("Skipping an undecodable model announcement: {}", e.getMessage());
            metrics.modelsRefused.inc();
            return;
        } catch (RuntimeException e) {
            LOG.error("Skipping a model announcement the decoder failed on", e);
            metrics.modelsRefused.inc();
            return;
        }
        if (announcement.getAction() == ModelAction.RETIRE) {
            flush(); // what arrived under this model is still served by it
        }
        var accepted = models.onAnnouncement(announcement);
        if (accepted.isPresent()) {
            activeModels.put(announcement.getName(), ActiveVersion.of(accepted.get()));
            if (!accepted.get().retired()) {
                watch(announcement.getName());
            }
        }
        pollWhileLoading(getProcessingTimeService().getCurrentProcessingTime());
    }

    @Override
    public void onProcessingTime(long time) throws Exception {
        models.applyFinishedLoads();
        if (!buffer.isEmpty() && time >= flushDeadline) {
            flush();
        }
        if (time >= pollAt) {
            pollAt = Long.MIN_VALUE;
        }
        pollWhileLoading(time);
    }

    /**
     * Checks for finished loads every {@link #LOAD_POLL_MILLIS} while any is under way: one poll
     * pending at a time, however many announcements and timers ask for one, since a retry can keep
     * loads under way for minutes.
     */
    private void pollWhileLoading(long now) {
        if (models.loading() && pollAt == Long.MIN_VALUE) {
            pollAt = now + LOAD_POLL_MILLIS;
            getProcessingTimeService().registerTimer(pollAt, this);
        }
    }

    /**
     * The model's gauges: the version serving here, whether it is behind the record, and the
     * versions on trial.
     */
    private void watch(String model) {
        metrics.modelServing(
                model,
                () -> models.servingVersion(model),
                () -> models.servingBehind(model),
                () -> models.trialVersion(model, TrialKind.SHADOW),
                () -> models.trialVersion(model, TrialKind.CANARY));
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
            if (models != null) {
                models.close();
            }
        } finally {
            super.close();
        }
    }

    /** The models of this subtask. */
    @VisibleForTesting
    ModelManager models() {
        return models;
    }

    /** The metrics of this subtask. */
    @VisibleForTesting
    InferenceMetrics metrics() {
        return metrics;
    }

    /** Where this subtask's encoders run, and why. */
    @VisibleForTesting
    DeviceChoice device() {
        return device;
    }

    private void flush() throws Exception {
        models.applyFinishedLoads();
        if (buffer.isEmpty()) {
            return;
        }
        long start = System.nanoTime();
        Map<String, LoadedTrials> trials = models.trials();
        BatchClassifier.Flush flush =
                classifier.classify(
                        buffer,
                        bufferTokens,
                        models.serving(),
                        trials,
                        settings.defaultModels(),
                        Clock.systemUTC());
        for (int i = 0; i < flush.outcomes().size(); i++) {
            BatchClassifier.Outcome outcome = flush.outcomes().get(i);
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
            BatchClassifier.Tokens tokens = bufferTokens.get(i);
            for (ClassificationResult result : outcome.results()) {
                metrics.resultsOut.inc();
                LoadedModel servedBy = versionThatGave(result, trials);
                metrics.answered(result, servedBy, ownTokens(tokens, result, servedBy));
                metrics.endToEndLatencyMs.update(result.getLatencyMillis());
                output.collect(
                        new StreamRecord<>(
                                OutRecords.result(
                                        result, outcome.request(), settings.resultsTopic())));
                emitAnswer(result);
            }
            for (ClassificationResult shadow : outcome.shadowResults()) {
                LoadedModel servedBy = versionThatGave(shadow, trials);
                ClassificationResult serving =
                        outcome.results().stream()
                                .filter(r -> r.getModel().equals(shadow.getModel()))
                                .findFirst()
                                .orElse(null);
                metrics.shadowAnswered(
                        shadow, serving, servedBy, ownTokens(tokens, shadow, servedBy));
                output.collect(
                        new StreamRecord<>(
                                OutRecords.result(
                                        shadow, outcome.request(), settings.shadowTopic())));
                emitAnswer(shadow);
            }
        }
        for (BatchClassifier.Pass pass : flush.passes()) {
            if (pass.forShadowsOnly()) {
                metrics.shadowOnlyPasses.inc();
            }
            metrics.batchSize.update(pass.size());
            metrics.paddingEfficiencyPct.update(Math.round(100 * pass.paddingEfficiency()));
            metrics.encoderPasses.inc();
            if (pass.trunkLayers() > 0) {
                metrics.trunkPasses.inc();
            }
            metrics.topRuns.inc(pass.topRuns());
        }
        metrics.batchLatencyMs.update((System.nanoTime() - start) / 1_000_000);
        buffer.clear();
        bufferTokens.clear();
        metrics.queueDepth(0);
        bufferedTokens = 0;
        flushDeadline = Long.MAX_VALUE;
    }

    private void emitAnswer(ClassificationResult result) {
        if (settings.emitAnswers()) {
            long now = getProcessingTimeService().getCurrentProcessingTime();
            output.collect(ANSWERS, new StreamRecord<>(Answer.of(result, now)));
        }
    }

    /**
     * The loaded version that gave {@code result}: the serving one or a trial's; null where it is
     * gone (a result carries what its metrics need without it).
     */
    private LoadedModel versionThatGave(
            ClassificationResult result, Map<String, LoadedTrials> trials) {
        String model = result.getModel();
        long version = result.getModelVersion();
        LoadedModel serving = models.serving().get(model);
        if (serving != null && serving.version() == version) {
            return serving;
        }
        LoadedTrials onTrial = trials.get(model);
        if (onTrial == null) {
            return null;
        }
        for (LoadedModel trial : new LoadedModel[] {onTrial.shadow(), onTrial.canary()}) {
            if (trial != null && trial.version() == version) {
                return trial;
            }
        }
        return null;
    }

    /**
     * The tokens counted on arrival were for the request's first model: they are {@code result}'s
     * model's own only where it tokenizes alike, and the encoder read them.
     */
    private static TokenizedInput ownTokens(
            BatchClassifier.Tokens tokens, ClassificationResult result, LoadedModel servedBy) {
        boolean own =
                tokens != null
                        && servedBy != null
                        && tokens.encoderKey().equals(servedBy.encoderKey())
                        && !"ngram".equals(result.getStage());
        return own ? tokens.input() : null;
    }

    /**
     * Tokens of the request for the first model it will run on, counted against the token budget
     * and kept for the flush; null when that model is unknown (dead-lettered at flush).
     */
    private BatchClassifier.Tokens tokenize(ClassifyRequest request) {
        var serving = models.serving();
        String name =
                !request.models.isEmpty()
                        ? request.models.get(0)
                        : !settings.defaultModels().isEmpty()
                                ? settings.defaultModels().get(0)
                                : serving.keySet().stream().sorted().findFirst().orElse("");
        var model = serving.get(name);
        return model == null
                ? null
                : new BatchClassifier.Tokens(
                        model.encoderKey(), BatchClassifier.tokenize(model, request));
    }

    private PublicKey publicKey() throws Exception {
        String pem = settings.announcementPublicKeyPem();
        return pem == null ? null : AnnouncementSignatures.publicKey(pem, "the announcement key");
    }
}
