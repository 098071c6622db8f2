package dev.sift.job.sink;

import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.OutputHeaders;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.request.ClassifyRequest;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds result records: keyed by request id, so one request's results share a partition, with the
 * model, its version, the request id and the stage that answered as headers.
 */
public final class OutRecords {

    private static final RecordCodec<ClassificationResult> CODEC =
            RecordCodec.of(ClassificationResult.class);

    private OutRecords() {}

    /** The record of {@code result}, which answers {@code request}. */
    public static OutRecord result(
            ClassificationResult result, ClassifyRequest request, String topic) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(OutputHeaders.MODEL, result.getModel());
        headers.put(OutputHeaders.MODEL_VERSION, Long.toString(result.getModelVersion()));
        headers.put(OutputHeaders.REQUEST_ID, result.getId());
        if (result.getStage() != null) {
            headers.put(OutputHeaders.STAGE, result.getStage());
        }
        return new OutRecord(
                        topic,
                        result.getId().getBytes(StandardCharsets.UTF_8),
                        CODEC.encode(result),
                        headers)
                .from(request.topic, request.partition, request.offset);
    }
}
