package dev.sift.schemas;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;

/**
 * The reading and writing rules the JSON output codecs share: one object per record, every field
 * present (null where the Avro field is null), timestamps as ISO-8601 UTC strings, bytes as
 * standard base64. Decoding names the field that is missing or of the wrong type.
 */
final class JsonFields {

    static final ObjectMapper JSON =
            new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final String type;
    private final ObjectNode root;

    private JsonFields(String type, ObjectNode root) {
        this.type = type;
        this.root = root;
    }

    static byte[] write(ObjectNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write JSON", e);
        }
    }

    /** Parses {@code bytes} as one JSON object holding a {@code type}. */
    static JsonFields read(String type, byte[] bytes) throws RecordDecodingException {
        if (bytes == null || bytes.length == 0) {
            throw new RecordDecodingException(ErrorCode.UNDECODABLE, "Empty " + type + " value");
        }
        JsonNode node;
        try {
            node = JSON.readTree(bytes);
        } catch (IOException e) {
            throw new RecordDecodingException(
                    ErrorCode.UNDECODABLE, "Not a JSON " + type + ": " + e.getMessage(), e);
        }
        if (!(node instanceof ObjectNode object)) {
            throw new RecordDecodingException(
                    ErrorCode.UNDECODABLE, "A JSON " + type + " must be an object");
        }
        return new JsonFields(type, object);
    }

    static String timestamp(Instant instant) {
        return instant == null ? null : instant.toString();
    }

    static String base64(ByteBuffer bytes) {
        if (bytes == null) {
            return null;
        }
        ByteBuffer copy = bytes.duplicate();
        byte[] array = new byte[copy.remaining()];
        copy.get(array);
        return Base64.getEncoder().encodeToString(array);
    }

    JsonNode field(String name) throws RecordDecodingException {
        JsonNode node = root.get(name);
        if (node == null) {
            throw bad("has no \"" + name + "\"");
        }
        return node;
    }

    String string(String name) throws RecordDecodingException {
        JsonNode node = field(name);
        if (!node.isTextual()) {
            throw wrongType(name, "a string", node);
        }
        return node.textValue();
    }

    String nullableString(String name) throws RecordDecodingException {
        return field(name).isNull() ? null : string(name);
    }

    boolean has(String name) {
        return root.has(name);
    }

    Long nullableInteger(String name) throws RecordDecodingException {
        return field(name).isNull() ? null : integer(name);
    }

    long integer(String name) throws RecordDecodingException {
        JsonNode node = field(name);
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
            throw wrongType(name, "an integer", node);
        }
        return node.longValue();
    }

    int int32(String name) throws RecordDecodingException {
        JsonNode node = field(name);
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw wrongType(name, "a 32-bit integer", node);
        }
        return node.intValue();
    }

    float number(JsonNode node, String name) throws RecordDecodingException {
        if (!node.isNumber()) {
            throw wrongType(name, "a number", node);
        }
        return node.floatValue();
    }

    ObjectNode object(String name) throws RecordDecodingException {
        JsonNode node = field(name);
        if (!(node instanceof ObjectNode object)) {
            throw wrongType(name, "an object", node);
        }
        return object;
    }

    Instant nullableTimestamp(String name) throws RecordDecodingException {
        return field(name).isNull() ? null : timestamp(name);
    }

    Instant timestamp(String name) throws RecordDecodingException {
        String text = string(name);
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw bad("field \"" + name + "\" is not an ISO-8601 instant: " + text);
        }
    }

    ByteBuffer nullableBase64(String name) throws RecordDecodingException {
        return field(name).isNull() ? null : base64(name);
    }

    ByteBuffer base64(String name) throws RecordDecodingException {
        String text = string(name);
        try {
            return ByteBuffer.wrap(Base64.getDecoder().decode(text));
        } catch (IllegalArgumentException e) {
            throw bad("field \"" + name + "\" is not base64: " + e.getMessage());
        }
    }

    RecordDecodingException wrongType(String name, String expected, JsonNode found) {
        return bad("field \"" + name + "\" must be " + expected + ", not " + found.getNodeType());
    }

    private RecordDecodingException bad(String problem) {
        return new RecordDecodingException(ErrorCode.UNDECODABLE, "JSON " + type + " " + problem);
    }
}
