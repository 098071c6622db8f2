package dev.sift.schemas;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.CharConversionException;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/**
 * Decodes the request topic, where {@link TextRequest} and {@link PairRequest} records arrive side
 * by side, in Avro single-object encoding or, as a convenience for people typing into a console
 * producer, as a JSON object:
 *
 * <pre>{@code
 * {"id": "m-1", "text": "Win a free cruise!", "models": ["spam"], "attributes": {"src": "smtp"}}
 * {"id": "p-7", "text_a": "A man is playing a guitar.", "text_b": "A person makes music."}
 * }</pre>
 *
 * <p>JSON field names may be snake_case or camelCase ({@code text_a}/{@code textA}, {@code
 * event_time}/{@code eventTime}); {@code event_time} is epoch milliseconds or ISO-8601. This class
 * checks structure only; content rules (blank text, byte limits, known models) belong to the job.
 * Thread-safe.
 */
public final class RequestCodec {

    /** Rejects {@code {...} junk}: a request is one JSON value, not a prefix of the record. */
    private static final ObjectMapper JSON =
            new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final RecordCodec<TextRequest> texts = RecordCodec.of(TextRequest.class);
    private final RecordCodec<PairRequest> pairs = RecordCodec.of(PairRequest.class);

    /** Returns a {@link TextRequest} or a {@link PairRequest}. */
    public SpecificRecord decode(byte[] bytes) throws RecordDecodingException {
        if (bytes == null || bytes.length == 0) {
            throw new RecordDecodingException(ErrorCode.UNDECODABLE, "Empty record value");
        }
        if (RecordCodec.hasHeader(bytes)) {
            if (texts.accepts(bytes)) {
                TextRequest text = texts.decode(bytes);
                requireUtf8(bytes, text.getId(), "text", text.getText());
                return text;
            }
            if (pairs.accepts(bytes)) {
                PairRequest pair = pairs.decode(bytes);
                requireUtf8(bytes, pair.getId(), "textA", pair.getTextA());
                requireUtf8(bytes, pair.getId(), "textB", pair.getTextB());
                return pair;
            }
            throw new RecordDecodingException(
                    ErrorCode.UNKNOWN_SCHEMA,
                    String.format(
                            "Schema fingerprint %016x is neither a TextRequest nor a PairRequest"
                                    + " schema this job knows",
                            RecordCodec.fingerprint(bytes)));
        }
        if (looksLikeJson(bytes)) {
            return fromJson(bytes);
        }
        throw new RecordDecodingException(
                ErrorCode.UNDECODABLE,
                "Neither Avro single-object encoding (marker C3 01) nor a JSON object");
    }

    public byte[] encode(TextRequest request) {
        return texts.encode(request);
    }

    public byte[] encode(PairRequest request) {
        return pairs.encode(request);
    }

    /**
     * Avro decodes malformed UTF-8 into U+FFFD without complaint. A U+FFFD in the decoded text
     * whose encoding (EF BF BD) is nowhere in the record's bytes came from invalid input, not from
     * a producer that meant it. (JSON needs no such check: Jackson rejects bad UTF-8 itself.)
     */
    private static void requireUtf8(byte[] bytes, String id, String field, String value)
            throws RecordDecodingException {
        if (value != null && value.indexOf('\uFFFD') >= 0 && !containsReplacementCharacter(bytes)) {
            throw new RecordDecodingException(
                    ErrorCode.INVALID_UTF8,
                    "Request " + id + " field \"" + field + "\" is not valid UTF-8");
        }
    }

    private static boolean containsReplacementCharacter(byte[] bytes) {
        for (int i = 0; i + 2 < bytes.length; i++) {
            if (bytes[i] == (byte) 0xEF
                    && bytes[i + 1] == (byte) 0xBF
                    && bytes[i + 2] == (byte) 0xBD) {
                return true;
            }
        }
        return false;
    }

    private static boolean looksLikeJson(byte[] bytes) {
        for (byte b : bytes) {
            if (b == '{') {
                return true;
            }
            if (b != ' '
                    && b != '\t'
                    && b != '\r'
                    && b != '\n'
                    && b != (byte) 0xEF
                    && b != (byte) 0xBB
                    && b != (byte) 0xBF) {
                return false; // the last three are a UTF-8 byte order mark
            }
        }
        return false;
    }

    /**
     * Parses one JSON value the way requests are parsed (nothing may follow it), saying in the
     * exception which of invalid UTF-8, a truncated or malformed text, or an unreadable one it was;
     * {@code what} names the record in the message ("JSON request").
     */
    public static JsonNode parseJson(byte[] bytes, String what) throws RecordDecodingException {
        try {
            return JSON.readTree(bytes);
        } catch (CharConversionException e) {
            throw new RecordDecodingException(
                    ErrorCode.INVALID_UTF8, what + " is not valid UTF-8: " + e.getMessage(), e);
        } catch (JsonEOFException e) {
            throw new RecordDecodingException(
                    ErrorCode.UNDECODABLE, "Truncated " + what + ": " + e.getOriginalMessage(), e);
        } catch (JsonParseException e) {
            // Jackson reports bad UTF-8 as a parse error; producers need to know which it was.
            ErrorCode code =
                    e.getOriginalMessage().contains("UTF-8")
                            ? ErrorCode.INVALID_UTF8
                            : ErrorCode.UNDECODABLE;
            throw new RecordDecodingException(
                    code, "Malformed " + what + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new RecordDecodingException(
                    ErrorCode.UNDECODABLE, "Unreadable " + what + ": " + e.getMessage(), e);
        }
    }

    private static SpecificRecord fromJson(byte[] bytes) throws RecordDecodingException {
        JsonNode root = parseJson(bytes, "JSON request");
        if (!(root instanceof ObjectNode)) {
            throw new RecordDecodingException(
                    ErrorCode.UNDECODABLE, "A JSON request must be an object");
        }
        String id = text(root, "id", null);
        if (id == null || id.isEmpty()) {
            throw new RecordDecodingException(
                    ErrorCode.MISSING_ID, "JSON request has no \"id\" string");
        }
        List<String> models = models(root);
        Map<String, String> attributes = attributes(root);
        Instant eventTime = eventTime(root);

        String text = text(root, "text", null);
        String textA = text(root, "text_a", "textA");
        String textB = text(root, "text_b", "textB");
        if (text != null && (textA != null || textB != null)) {
            throw new RecordDecodingException(
                    ErrorCode.UNDECODABLE,
                    "JSON request " + id + " has both \"text\" and a pair half; send one kind");
        }
        if (text != null) {
            return TextRequest.newBuilder()
                    .setId(id)
                    .setText(text)
                    .setModels(models)
                    .setAttributes(attributes)
                    .setEventTime(eventTime)
                    .build();
        }
        if (textA == null && textB == null) {
            throw new RecordDecodingException(
                    ErrorCode.EMPTY_TEXT,
                    "JSON request " + id + " has neither \"text\" nor \"text_a\"/\"text_b\"");
        }
        if (textA == null || textB == null) {
            throw new RecordDecodingException(
                    ErrorCode.MISSING_PAIR_HALF,
                    "JSON pair request "
                            + id
                            + " lacks \""
                            + (textA == null ? "text_a" : "text_b")
                            + "\"");
        }
        return PairRequest.newBuilder()
                .setId(id)
                .setTextA(textA)
                .setTextB(textB)
                .setModels(models)
                .setAttributes(attributes)
                .setEventTime(eventTime)
                .build();
    }

    private static String text(JsonNode root, String name, String alias)
            throws RecordDecodingException {
        JsonNode node = root.get(name);
        String field = name;
        if ((node == null || node.isNull()) && alias != null) {
            node = root.get(alias);
            field = alias;
        }
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw new RecordDecodingException(
                    ErrorCode.UNDECODABLE,
                    "JSON field \"" + field + "\" must be a string, not " + node.getNodeType());
        }
        return node.textValue();
    }

    private static List<String> models(JsonNode root) throws RecordDecodingException {
        JsonNode node = root.get("models");
        List<String> models = new ArrayList<>();
        if (node == null || node.isNull()) {
            return models;
        }
        if (!node.isArray()) {
            throw new RecordDecodingException(
                    ErrorCode.UNDECODABLE, "JSON field \"models\" must be an array of strings");
        }
        for (JsonNode model : node) {
            if (!model.isTextual()) {
                throw new RecordDecodingException(
                        ErrorCode.UNDECODABLE,
                        "JSON field \"models\" must hold strings, found " + model.getNodeType());
            }
            models.add(model.textValue());
        }
        return models;
    }

    private static Map<String, String> attributes(JsonNode root) throws RecordDecodingException {
        JsonNode node = root.get("attributes");
        Map<String, String> attributes = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return attributes;
        }
        if (!node.isObject()) {
            throw new RecordDecodingException(
                    ErrorCode.UNDECODABLE, "JSON field \"attributes\" must be an object");
        }
        var fields = node.fields();
        while (fields.hasNext()) {
            var field = fields.next();
            JsonNode value = field.getValue();
            if (value.isContainerNode()) {
                throw new RecordDecodingException(
                        ErrorCode.UNDECODABLE,
                        "Attribute \""
                                + field.getKey()
                                + "\" must be a scalar, not an "
                                + value.getNodeType());
            }
            attributes.put(field.getKey(), value.isNull() ? "" : value.asText());
        }
        return attributes;
    }

    private static Instant eventTime(JsonNode root) throws RecordDecodingException {
        JsonNode node = root.get("event_time");
        if (node == null || node.isNull()) {
            node = root.get("eventTime");
        }
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.canConvertToLong() && node.isIntegralNumber()) {
            return Instant.ofEpochMilli(node.longValue());
        }
        if (node.isTextual()) {
            try {
                return Instant.parse(node.textValue());
            } catch (DateTimeParseException e) {
                throw new RecordDecodingException(
                        ErrorCode.UNDECODABLE,
                        "JSON field \"event_time\" is not ISO-8601: " + node.textValue(),
                        e);
            }
        }
        throw new RecordDecodingException(
                ErrorCode.UNDECODABLE,
                "JSON field \"event_time\" must be epoch milliseconds or an ISO-8601 string");
    }
}
