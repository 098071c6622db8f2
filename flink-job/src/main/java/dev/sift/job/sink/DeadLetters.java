package dev.sift.job.sink;

import dev.sift.job.decode.ClassifyRequest;
import dev.sift.job.decode.RawRecord;
import dev.sift.schemas.DeadLetter;
import dev.sift.schemas.ErrorCode;
import dev.sift.schemas.OutputFormat;
import dev.sift.schemas.OutputHeaders;
import dev.sift.schemas.RecordCodec;
import dev.sift.schemas.RecordDecodingException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds dead-letter records: the original bytes, where they came from, a code and a reason; the
 * code and, where known, the request id also as headers.
 */
public final class DeadLetters {

    private static final RecordCodec<DeadLetter> CODEC = RecordCodec.of(DeadLetter.class);

    private DeadLetters() {}

    public static OutRecord of(
            RawRecord raw, ErrorCode code, String reason, String requestId, String topic) {
        DeadLetter letter =
                DeadLetter.newBuilder()
                        .setKey(raw.key == null ? null : ByteBuffer.wrap(raw.key))
                        .setValue(ByteBuffer.wrap(raw.value == null ? new byte[0] : raw.value))
                        .setTopic(raw.topic)
                        .setPartition(raw.partition)
                        .setOffset(raw.offset)
                        .setErrorCode(code)
                        .setReason(reason)
                        .setRequestId(requestId)
                        .setFailedAt(Instant.now())
                        .build();
        Map<String, String> headers = new LinkedHashMap<>();
        if (requestId != null) {
            headers.put(OutputHeaders.REQUEST_ID, requestId);
        }
        headers.put(OutputHeaders.ERROR_CODE, code.name());
        return new OutRecord(topic, raw.key, CODEC.encode(letter), headers);
    }

    /** A request refused after decoding (an unknown model): its original record, kept whole. */
    public static OutRecord of(
            ClassifyRequest request, ErrorCode code, String reason, String topic) {
        RawRecord raw =
                new RawRecord(
                        request.topic,
                        request.partition,
                        request.offset,
                        request.eventTimeMillis,
                        request.originalKey,
                        request.originalValue);
        return of(raw, code, reason, request.id, topic);
    }

    /** Decodes a dead letter in either output format. */
    public static DeadLetter decode(byte[] value) throws RecordDecodingException {
        return OutputFormat.of(value).deadLetters().decode(value);
    }
}
