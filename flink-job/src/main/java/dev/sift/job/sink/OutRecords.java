package dev.sift.job.sink;

import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.RecordCodec;
import java.nio.charset.StandardCharsets;

/** Builds result records: keyed by request id, so one request's results share a partition. */
public final class OutRecords {

    private static final RecordCodec<ClassificationResult> CODEC =
            RecordCodec.of(ClassificationResult.class);

    private OutRecords() {}

    public static OutRecord result(ClassificationResult result, String topic) {
        return new OutRecord(
                topic, result.getId().getBytes(StandardCharsets.UTF_8), CODEC.encode(result));
    }
}
