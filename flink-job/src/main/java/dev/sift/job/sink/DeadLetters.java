package dev.sift.job.sink;

import dev.sift.model.bundle.Digests;
import dev.sift.schemas.DeadLetter;
import dev.sift.schemas.ErrorCode;
import dev.sift.schemas.OutputHeaders;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.serving.request.RawRecord;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds dead-letter records: the original value (whole up to {@link #MAX_VALUE_BYTES}, its prefix
 * beyond, with its whole length and SHA-256), where it came from, a code and a reason; the code
 * and, where known, the request id also as headers.
 *
 * <p>The value is bounded because a dead letter must always fit where its request did: a request
 * just under the broker's limit, copied whole into a letter (base64 in JSON: 1.33 times), would be
 * refused by the producer and fail the task on every restart. The source coordinates find the whole
 * record while the request topic retains it.
 */
public final class DeadLetters {

    /** The most bytes of a refused value that a dead letter carries. */
    public static final int MAX_VALUE_BYTES = 64 * 1024;

    private static final RecordCodec<DeadLetter> CODEC = RecordCodec.of(DeadLetter.class);

    private DeadLetters() {}

    public static OutRecord of(
            RawRecord raw, ErrorCode code, String reason, String requestId, String topic) {
        byte[] value = raw.value == null ? new byte[0] : raw.value;
        DeadLetter letter =
                letter(raw.topic, raw.partition, raw.offset, code, reason, requestId)
                        .setKey(raw.key == null ? null : ByteBuffer.wrap(raw.key))
                        .setValue(
                                ByteBuffer.wrap(
                                        Arrays.copyOf(
                                                value, Math.min(value.length, MAX_VALUE_BYTES))))
                        .setValueLength((long) value.length)
                        .setValueSha256(Digests.sha256(value))
                        .build();
        return new OutRecord(topic, raw.key, CODEC.encode(letter), headers(code, requestId))
                .from(raw.topic, raw.partition, raw.offset);
    }

    /** A request refused after decoding (an unknown model), with its original record. */
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

    /**
     * Stands in for a record the producer would refuse: a {@code RECORD_TOO_LARGE} letter for the
     * request it answered, with no key and no value, so it is small whatever made the original
     * large.
     *
     * @param size the refused record's size as the producer counts it
     * @param limit the producer's {@code max.request.size}
     */
    public static OutRecord tooLarge(OutRecord refused, int size, int limit, String topic) {
        String requestId = refused.headers.get(OutputHeaders.REQUEST_ID);
        String model = refused.headers.get(OutputHeaders.MODEL);
        String what =
                model != null
                        ? "The result of "
                                + model
                                + " v"
                                + refused.headers.get(OutputHeaders.MODEL_VERSION)
                        : refused.headers.containsKey(OutputHeaders.ERROR_CODE)
                                ? "The "
                                        + refused.headers.get(OutputHeaders.ERROR_CODE)
                                        + " dead letter"
                                : "The record";
        String reason =
                what
                        + " for request "
                        + requestId
                        + " would be a "
                        + size
                        + "-byte record on "
                        + refused.topic
                        + ", over the producer's max.request.size of "
                        + limit
                        + "; the request is at "
                        + refused.sourceTopic
                        + "-"
                        + refused.sourcePartition
                        + " offset "
                        + refused.sourceOffset;
        DeadLetter letter =
                letter(
                                refused.sourceTopic,
                                refused.sourcePartition,
                                refused.sourceOffset,
                                ErrorCode.RECORD_TOO_LARGE,
                                reason,
                                requestId)
                        .setKey(null)
                        .setValue(ByteBuffer.wrap(new byte[0]))
                        .build();
        return new OutRecord(
                        topic,
                        null,
                        CODEC.encode(letter),
                        headers(ErrorCode.RECORD_TOO_LARGE, requestId))
                .from(refused.sourceTopic, refused.sourcePartition, refused.sourceOffset);
    }

    private static DeadLetter.Builder letter(
            String topic,
            int partition,
            long offset,
            ErrorCode code,
            String reason,
            String requestId) {
        return DeadLetter.newBuilder()
                // A source topic is unknown only for a record the job did not read from Kafka.
                .setTopic(topic == null ? "" : topic)
                .setPartition(partition)
                .setOffset(offset)
                .setErrorCode(code)
                .setReason(reason)
                .setRequestId(requestId)
                .setFailedAt(Instant.now());
    }

    private static Map<String, String> headers(ErrorCode code, String requestId) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (requestId != null) {
            headers.put(OutputHeaders.REQUEST_ID, requestId);
        }
        headers.put(OutputHeaders.ERROR_CODE, code.name());
        return headers;
    }
}
