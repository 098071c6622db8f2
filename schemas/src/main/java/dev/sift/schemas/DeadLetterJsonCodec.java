package dev.sift.schemas;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A {@link DeadLetter} as one JSON object with the Avro schema's field names. The refused record's
 * original key and value are standard base64 (RFC 4648, padded) since they may be any bytes; the
 * key is null when the record had none. The value is at most a bounded prefix of the original,
 * whose whole length and SHA-256 follow it. {@code failedAt} is an ISO-8601 UTC instant:
 *
 * <pre>{@code
 * {"key":null,"value":"bm90IGEgcmVxdWVzdA==","topic":"sift.requests","partition":0,"offset":17,
 *  "errorCode":"UNDECODABLE","reason":"Neither Avro single-object encoding …","requestId":null,
 *  "failedAt":"2026-11-25T10:15:30.123Z","valueLength":13,"valueSha256":"bbd00df0…"}
 * }</pre>
 *
 * An {@code errorCode} this version does not know decodes as {@link ErrorCode#OTHER}, as the Avro
 * enum's default says. The shape is documented in {@code
 * dev/sift/schemas/json/DeadLetter.schema.json}. Thread-safe.
 */
public final class DeadLetterJsonCodec implements TopicCodec<DeadLetter> {

    @Override
    public byte[] encode(DeadLetter letter) {
        ObjectNode node = JsonFields.JSON.createObjectNode();
        node.put("key", JsonFields.base64(letter.getKey()));
        node.put("value", JsonFields.base64(letter.getValue()));
        node.put("topic", letter.getTopic());
        node.put("partition", letter.getPartition());
        node.put("offset", letter.getOffset());
        node.put("errorCode", letter.getErrorCode().name());
        node.put("reason", letter.getReason());
        node.put("requestId", letter.getRequestId());
        node.put("failedAt", JsonFields.timestamp(letter.getFailedAt()));
        node.put("valueLength", letter.getValueLength());
        node.put("valueSha256", letter.getValueSha256());
        return JsonFields.write(node);
    }

    @Override
    public DeadLetter decode(byte[] bytes) throws RecordDecodingException {
        JsonFields json = JsonFields.read("DeadLetter", bytes);
        return DeadLetter.newBuilder()
                .setKey(json.nullableBase64("key"))
                .setValue(json.base64("value"))
                .setTopic(json.string("topic"))
                .setPartition(json.int32("partition"))
                .setOffset(json.integer("offset"))
                .setErrorCode(errorCode(json.string("errorCode")))
                .setReason(json.string("reason"))
                .setRequestId(json.nullableString("requestId"))
                .setFailedAt(json.timestamp("failedAt"))
                // Absent, not null, in letters written before these fields existed.
                .setValueLength(
                        json.has("valueLength") ? json.nullableInteger("valueLength") : null)
                .setValueSha256(json.has("valueSha256") ? json.nullableString("valueSha256") : null)
                .build();
    }

    private static ErrorCode errorCode(String name) {
        for (ErrorCode code : ErrorCode.values()) {
            if (code.name().equals(name)) {
                return code;
            }
        }
        return ErrorCode.OTHER;
    }
}
