package dev.sift.job.sink;

import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.OutputHeaders;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.request.ClassifyRequest;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Builds result records: keyed by request id, so one request's results share a partition, with the
 * model, its version and the request id as headers.
 */
public final class OutRecords {

    private static final RecordCodec<ClassificationResult> CODEC =
            RecordCodec.of(ClassificationResult.class);

    private OutRecords() {}

    /** The record of {@code result}, which answers {@code request}. */
    public static OutRecord result(
            ClassificationResult result, ClassifyRequest request, String topic) {
        return new OutRecord(
                        topic,
                        result.getId().getBytes(StandardCharsets.UTF_8),
                        CODEC.encode(result),
                        Map.of(
                                OutputHeaders.MODEL, result.getModel(),
                                OutputHeaders.MODEL_VERSION,
                                        Long.toString(result.getModelVersion()),
                                OutputHeaders.REQUEST_ID, result.getId()))
                .from(request.topic, request.partition, request.offset);
    }
}
