package dev.sift.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/**
 * The JSON output format against the Avro contracts, so the two cannot drift: the documented JSON
 * Schema lists exactly the Avro fields with the JSON type each Avro type maps to, what the codecs
 * write carries every field with its documented type, and both formats decode back to the record.
 */
class JsonShapeTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant NOW = Instant.parse("2026-11-25T10:15:30.123Z");

    @Test
    void theDocumentedSchemasListExactlyTheAvroFieldsWithTheirJsonTypes() throws Exception {
        for (Schema avro : List.of(ClassificationResult.getClassSchema(), DeadLetter.SCHEMA$)) {
            JsonNode documented = documented(avro);
            List<String> fields = avro.getFields().stream().map(Schema.Field::name).toList();

            assertThat(names(documented.get("properties"))).as(avro.getName()).isEqualTo(fields);
            assertThat(strings(documented.get("required"))).as(avro.getName()).isEqualTo(fields);
            for (Schema.Field field : avro.getFields()) {
                assertThat(withoutDescription(documented.get("properties").get(field.name())))
                        .as(avro.getName() + "." + field.name())
                        .isEqualTo(json(field.schema()));
            }
        }
    }

    @Test
    void encodedRecordsCarryEveryAvroFieldWithItsDocumentedType() throws Exception {
        List<byte[]> results =
                List.of(
                        OutputFormat.JSON.results().encode(result(NOW)),
                        OutputFormat.JSON.results().encode(result(null)));
        List<byte[]> letters =
                List.of(
                        OutputFormat.JSON.deadLetters().encode(letter("k", "r-1")),
                        OutputFormat.JSON.deadLetters().encode(letter(null, null)));
        for (byte[] bytes : results) {
            assertConforms(ClassificationResult.getClassSchema(), bytes);
        }
        for (byte[] bytes : letters) {
            assertConforms(DeadLetter.SCHEMA$, bytes);
        }
    }

    @Test
    void bothFormatsRoundTripEveryField() throws Exception {
        for (OutputFormat format : OutputFormat.values()) {
            for (ClassificationResult result : List.of(result(NOW), result(null))) {
                byte[] bytes = format.results().encode(result);
                assertThat(OutputFormat.of(bytes)).isEqualTo(format);
                assertThat(format.results().decode(bytes)).as(format.name()).isEqualTo(result);
            }
            for (DeadLetter letter : List.of(letter("k", "r-1"), letter(null, null))) {
                byte[] bytes = format.deadLetters().encode(letter);
                assertThat(OutputFormat.of(bytes)).isEqualTo(format);
                assertThat(format.deadLetters().decode(bytes)).as(format.name()).isEqualTo(letter);
            }
        }
    }

    @Test
    void jsonIsReadableAsWritten() throws Exception {
        String json =
                new String(OutputFormat.JSON.results().encode(result(NOW)), StandardCharsets.UTF_8);
        assertThat(json)
                .contains("\"probabilities\":{\"ham\":0.25,\"spam\":0.75}")
                .contains("\"eventTime\":\"2026-11-25T10:15:30.123Z\"");
        String letter =
                new String(
                        OutputFormat.JSON.deadLetters().encode(letter("k", null)),
                        StandardCharsets.UTF_8);
        assertThat(letter)
                .contains("\"key\":\"" + Base64.getEncoder().encodeToString("k".getBytes()) + "\"")
                .contains("\"value\":\"" + Base64.getEncoder().encodeToString(new byte[] {0, -1}))
                .contains("\"requestId\":null");
    }

    @Test
    void aLetterWrittenBeforeTheValueLengthFieldsDecodesWithNulls() throws Exception {
        ObjectNode old =
                (ObjectNode)
                        JSON.readTree(OutputFormat.JSON.deadLetters().encode(letter("k", "r")));
        old.remove("valueLength");
        old.remove("valueSha256");

        DeadLetter decoded = OutputFormat.JSON.deadLetters().decode(JSON.writeValueAsBytes(old));

        assertThat(decoded.getValueLength()).isNull();
        assertThat(decoded.getValueSha256()).isNull();
        assertThat(decoded.getReason()).isEqualTo("text is blank");
    }

    @Test
    void decodingNamesTheMissingOrMistypedField() {
        assertThatThrownBy(
                        () ->
                                OutputFormat.JSON
                                        .results()
                                        .decode("{\"id\":\"x\"}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(RecordDecodingException.class)
                .hasMessageContaining("has no \"model\"");
        assertThatThrownBy(
                        () ->
                                OutputFormat.JSON
                                        .deadLetters()
                                        .decode(
                                                ("{\"key\":null,\"value\":\"AA==\",\"topic\":\"t\","
                                                                + "\"partition\":\"0\"}")
                                                        .getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("\"partition\" must be a 32-bit integer, not STRING");
        assertThatThrownBy(() -> OutputFormat.JSON.results().decode(new byte[] {1, 2}))
                .hasMessageContaining("Not a JSON ClassificationResult");
    }

    @Test
    void anUnknownErrorCodeReadsAsOther() throws Exception {
        byte[] bytes = OutputFormat.JSON.deadLetters().encode(letter(null, null));
        String newer =
                new String(bytes, StandardCharsets.UTF_8)
                        .replace("\"EMPTY_TEXT\"", "\"SOMETHING_NEW\"");

        assertThat(
                        OutputFormat.JSON
                                .deadLetters()
                                .decode(newer.getBytes(StandardCharsets.UTF_8))
                                .getErrorCode())
                .isEqualTo(ErrorCode.OTHER);
    }

    /** The JSON Schema property an Avro type maps to; the rules the codecs implement. */
    private static ObjectNode json(Schema schema) {
        ObjectNode p = JSON.createObjectNode();
        switch (schema.getType()) {
            case UNION -> {
                List<Schema> types = schema.getTypes();
                assertThat(types).hasSize(2);
                assertThat(types.get(0).getType()).isEqualTo(Schema.Type.NULL);
                p = json(types.get(1));
                String type = p.get("type").textValue();
                p.putArray("type").add(type).add("null");
            }
            case STRING -> p.put("type", "string");
            case INT -> p.put("type", "integer");
            case LONG -> {
                if (schema.getLogicalType() instanceof LogicalTypes.TimestampMillis) {
                    p.put("type", "string");
                    p.put("format", "date-time");
                } else {
                    assertThat(schema.getLogicalType()).isNull();
                    p.put("type", "integer");
                }
            }
            case FLOAT, DOUBLE -> p.put("type", "number");
            case BYTES -> {
                p.put("type", "string");
                p.put("contentEncoding", "base64");
            }
            case ENUM -> {
                p.put("type", "string");
                schema.getEnumSymbols().forEach(p.putArray("enum")::add);
            }
            case MAP -> {
                p.put("type", "object");
                p.set("additionalProperties", json(schema.getValueType()));
            }
            case ARRAY -> {
                // An array of {name, value} records is written as a name → value object.
                Schema item = schema.getElementType();
                assertThat(item.getType()).isEqualTo(Schema.Type.RECORD);
                assertThat(item.getFields()).hasSize(2);
                assertThat(item.getFields().get(0).schema().getType())
                        .isEqualTo(Schema.Type.STRING);
                p.put("type", "object");
                p.set("additionalProperties", json(item.getFields().get(1).schema()));
            }
            default ->
                    throw new AssertionError(
                            "No JSON form decided for Avro type " + schema + "; decide one");
        }
        return p;
    }

    private static void assertConforms(Schema avro, byte[] bytes) throws Exception {
        JsonNode record = JSON.readTree(bytes);
        JsonNode properties = documented(avro).get("properties");
        assertThat(names(record)).isEqualTo(names(properties));
        for (Schema.Field field : avro.getFields()) {
            conforms(field.name(), record.get(field.name()), properties.get(field.name()));
        }
    }

    private static void conforms(String where, JsonNode value, JsonNode property) {
        List<String> types =
                property.get("type").isArray()
                        ? strings(property.get("type"))
                        : List.of(property.get("type").textValue());
        if (value.isNull()) {
            assertThat(types).as(where).contains("null");
            return;
        }
        String type =
                switch (value.getNodeType()) {
                    case STRING -> "string";
                    case NUMBER -> value.isIntegralNumber() ? "integer" : "number";
                    case OBJECT -> "object";
                    default -> value.getNodeType().name();
                };
        assertThat(types.contains(type) || (type.equals("integer") && types.contains("number")))
                .as(where + " is " + type + ", documented " + types)
                .isTrue();
        if (property.has("format")) {
            assertThat(Instant.parse(value.textValue())).as(where).isNotNull();
        }
        if (property.has("contentEncoding")) {
            assertThat(Base64.getDecoder().decode(value.textValue())).as(where).isNotNull();
        }
        if (property.has("enum")) {
            assertThat(strings(property.get("enum"))).as(where).contains(value.textValue());
        }
        if (property.has("additionalProperties")) {
            value.properties()
                    .forEach(
                            e ->
                                    conforms(
                                            where + "." + e.getKey(),
                                            e.getValue(),
                                            property.get("additionalProperties")));
        }
    }

    private static JsonNode documented(Schema avro) throws Exception {
        String path = "/dev/sift/schemas/json/" + avro.getName() + ".schema.json";
        try (InputStream in = JsonShapeTest.class.getResourceAsStream(path)) {
            assertThat(in).as(path).isNotNull();
            return JSON.readTree(in);
        }
    }

    private static JsonNode withoutDescription(JsonNode property) {
        ObjectNode copy = (ObjectNode) property.deepCopy();
        copy.remove("description");
        return copy;
    }

    private static List<String> names(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static List<String> strings(JsonNode array) {
        List<String> strings = new ArrayList<>();
        array.forEach(s -> strings.add(s.textValue()));
        return strings;
    }

    static ClassificationResult result(Instant eventTime) {
        return ClassificationResult.newBuilder()
                .setId("r-1")
                .setModel("spam")
                .setModelVersion(3)
                .setEncoderHash("ab".repeat(32))
                .setLabel("spam")
                .setLabelIndex(1)
                .setProbability(0.75f)
                .setProbabilities(
                        List.of(
                                new LabelProbability("ham", 0.25f),
                                new LabelProbability("spam", 0.75f)))
                .setLatencyMillis(12)
                .setAttributes(eventTime == null ? Map.of() : Map.of("tenant", "acme"))
                .setEventTime(eventTime)
                // One with each kind of value a reader may meet: a stage, and none (older jobs).
                .setStage(eventTime == null ? null : "ngram")
                .build();
    }

    static DeadLetter letter(String key, String requestId) {
        return DeadLetter.newBuilder()
                .setKey(key == null ? null : ByteBuffer.wrap(key.getBytes(StandardCharsets.UTF_8)))
                .setValue(ByteBuffer.wrap(new byte[] {0, -1}))
                .setTopic("requests")
                .setPartition(2)
                .setOffset(41)
                .setErrorCode(ErrorCode.EMPTY_TEXT)
                .setReason("text is blank")
                .setRequestId(requestId)
                .setFailedAt(NOW)
                .setValueLength(requestId == null ? null : 70_000L)
                .setValueSha256(requestId == null ? null : "0f".repeat(32))
                .build();
    }
}
