package dev.sift.sql;

import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.schemas.ClassificationResult;
import dev.sift.serving.classify.BatchClassifier;
import dev.sift.serving.models.DeviceChoice;
import dev.sift.serving.models.LoadedModel;
import dev.sift.serving.request.ClassifyRequest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ML_PREDICT's function for a Sift model. Flink calls {@link #asyncPredict} once per row; the rows
 * queue in a {@link MicroBatcher} and are classified in batches by the streaming job's own {@link
 * BatchClassifier}: sorted by token length, cut into encoder passes at least padding cost, each
 * padded only to its own longest row. So a row gets the same probabilities here as in the job.
 *
 * <p>Built on the client and shipped to the TaskManagers: fields hold settings only; the model, the
 * batcher and their threads start in {@link #open} and stop in {@link #close}.
 */
public final class SiftPredictFunction extends AsyncPredictFunction {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(SiftPredictFunction.class);

    private final SiftModelSettings settings;
    private final ModelSignature signature;
    private final int flushSize;

    private transient ServedModel model;
    private transient BatchClassifier classifier;
    private transient MicroBatcher<ClassifyRequest, ClassificationResult> batcher;
    private transient long requests;
    private transient Counter rowsRefused;

    /**
     * @param inFlight the most rows Flink hands this function before it answers one (ML_PREDICT's
     *     'max-concurrent-operations'); a batch runs once this many, or {@code batch.max-size},
     *     wait, since no more can come
     */
    public SiftPredictFunction(SiftModelSettings settings, ModelSignature signature, int inFlight) {
        this.settings = settings;
        this.signature = signature;
        this.flushSize = Math.max(1, Math.min(settings.maxBatchSize(), inFlight));
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        super.open(context);
        DeviceChoice device =
                DeviceChoice.choose(
                        context.getExternalResourceInfos(DeviceChoice.GPU_RESOURCE),
                        TensorFlowEncoder.visibleGpuCount(),
                        context.getTaskInfo().getIndexOfThisSubtask());
        model = new ServedModel(settings, device.device());
        model.start();
        classifier = new BatchClassifier(settings.maxBatchSize(), settings.maxBatchTokens());
        if (flushSize < settings.maxBatchSize()) {
            LOG.warn(
                    "Batches of {} are capped at {} rows: ML_PREDICT lets no more in at once. Set"
                            + " 'max-concurrent-operations' (ML_PREDICT's MAP argument, or"
                            + " table.exec.async-ml-predict.max-concurrent-operations) to {} or"
                            + " more.",
                    settings.model(),
                    flushSize,
                    2 * settings.maxBatchSize());
        }
        batcher =
                new MicroBatcher<>(
                        "sift-batch-" + settings.model(),
                        flushSize,
                        settings.maxWait(),
                        this::classify);
        var metrics = context.getMetricGroup().addGroup("sift").addGroup("model", settings.model());
        metrics.gauge("version", (Gauge<Long>) model::version);
        metrics.gauge("queueDepth", (Gauge<Integer>) batcher::queued);
        rowsRefused = metrics.counter("rowsRefused");
    }

    /**
     * Queues one row. A row whose input is NULL yields no output row (it cannot be classified), as
     * with Flink's own model providers; so does a row over {@code max-text-bytes}, which the job
     * would dead-letter: it is counted in {@code rowsRefused} and logged.
     */
    @Override
    public CompletableFuture<Collection<RowData>> asyncPredict(RowData input) {
        if (input.isNullAt(0) || (signature.pair() && input.isNullAt(1))) {
            return CompletableFuture.completedFuture(List.of());
        }
        ClassifyRequest request = new ClassifyRequest();
        request.id = settings.model() + "-" + requests++;
        request.text = input.getString(0).toString();
        request.textB = signature.pair() ? input.getString(1).toString() : null;
        int bytes =
                utf8Length(request.text) + (request.textB == null ? 0 : utf8Length(request.textB));
        if (bytes > settings.maxTextBytes()) {
            rowsRefused.inc();
            long refused = rowsRefused.getCount();
            if (Long.bitCount(refused) == 1) { // the 1st, 2nd, 4th, ...: a flood logs little
                LOG.warn(
                        "A row of {} bytes of text is over max-text-bytes ({}): no prediction ({}"
                                + " rows so far)",
                        bytes,
                        settings.maxTextBytes(),
                        refused);
            }
            return CompletableFuture.completedFuture(List.of());
        }
        request.eventTimeMillis = System.currentTimeMillis();
        return batcher.submit(request).thenApply(result -> List.of(toRow(result)));
    }

    private List<ClassificationResult> classify(List<ClassifyRequest> batch) {
        LoadedModel serving = model.forNextBatch();
        BatchClassifier.Flush flush =
                classifier.classify(
                        batch,
                        null,
                        Map.of(serving.name(), serving),
                        List.of(serving.name()),
                        Clock.systemUTC());
        List<ClassificationResult> results = new ArrayList<>(batch.size());
        for (BatchClassifier.Outcome outcome : flush.outcomes()) {
            if (outcome.refused()) {
                throw new IllegalStateException(outcome.reason());
            }
            results.add(outcome.results().get(0));
        }
        return results;
    }

    private static int utf8Length(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }

    private RowData toRow(ClassificationResult result) {
        List<OutputColumn> outputs = signature.outputs();
        GenericRowData row = new GenericRowData(outputs.size());
        for (int i = 0; i < outputs.size(); i++) {
            row.setField(i, outputs.get(i).value(result));
        }
        return row;
    }

    @Override
    public void close() throws Exception {
        if (batcher != null) {
            batcher.close();
        }
        if (model != null) {
            model.close();
        }
        super.close();
    }
}
