package dev.sift.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link ClassificationResult} as one JSON object with the Avro schema's field names, for
 * consumers without Sift's schemas (Kafka's console consumer, Kafka Connect, ksqlDB, Flink SQL's
 * {@code json} format):
 *
 * <pre>{@code
 * {"id":"m-1","model":"spam","modelVersion":2,"encoderHash":"9f86…","label":"spam","labelIndex":1,
 *  "probability":0.97,"probabilities":{"ham":0.03,"spam":0.97},"latencyMillis":41,
 *  "attributes":{"src":"smtp"},"eventTime":"2026-11-25T10:15:30.123Z","stage":"encoder"}
 * }</pre>
 *
 * {@code probabilities} maps each label to its probability in the model's label order; {@code
 * eventTime} is an ISO-8601 UTC instant or null; {@code stage} says which stage answered ({@code
 * encoder} or {@code ngram}). Every field is always present. The shape is documented in {@code
 * dev/sift/schemas/json/ClassificationResult.schema.json}. Thread-safe.
 */
public final class ResultJsonCodec implements TopicCodec<ClassificationResult> {

    @Override
    public byte[] encode(ClassificationResult result) {
        ObjectNode node = JsonFields.JSON.createObjectNode();
        node.put("id", result.getId());
        node.put("model", result.getModel());
        node.put("modelVersion", result.getModelVersion());
        node.put("encoderHash", result.getEncoderHash());
        node.put("label", result.getLabel());
        node.put("labelIndex", result.getLabelIndex());
        node.put("probability", result.getProbability());
        ObjectNode probabilities = node.putObject("probabilities");
        for (LabelProbability p : result.getProbabilities()) {
            probabilities.put(p.getLabel(), p.getProbability());
        }
        node.put("latencyMillis", result.getLatencyMillis());
        ObjectNode attributes = node.putObject("attributes");
        result.getAttributes().forEach(attributes::put);
        node.put("eventTime", JsonFields.timestamp(result.getEventTime()));
        node.put("stage", result.getStage());
        return JsonFields.write(node);
    }

    /** Reads the fields in the schema's order, so an error names the first one amiss. */
    @Override
    public ClassificationResult decode(byte[] bytes) throws RecordDecodingException {
        JsonFields json = JsonFields.read("ClassificationResult", bytes);
        return ClassificationResult.newBuilder()
                .setId(json.string("id"))
                .setModel(json.string("model"))
                .setModelVersion(json.integer("modelVersion"))
                .setEncoderHash(json.string("encoderHash"))
                .setLabel(json.string("label"))
                .setLabelIndex(json.int32("labelIndex"))
                .setProbability(json.number(json.field("probability"), "probability"))
                .setProbabilities(probabilities(json))
                .setLatencyMillis(json.integer("latencyMillis"))
                .setAttributes(attributes(json))
                .setEventTime(json.nullableTimestamp("eventTime"))
                // Absent from results written before cascades existed.
                .setStage(json.has("stage") ? json.nullableString("stage") : null)
                .build();
    }

    private static List<LabelProbability> probabilities(JsonFields json)
            throws RecordDecodingException {
        List<LabelProbability> probabilities = new ArrayList<>();
        for (Map.Entry<String, JsonNode> p : json.object("probabilities").properties()) {
            probabilities.add(
                    new LabelProbability(
                            p.getKey(), json.number(p.getValue(), "probabilities." + p.getKey())));
        }
        return probabilities;
    }

    private static Map<String, String> attributes(JsonFields json) throws RecordDecodingException {
        Map<String, String> attributes = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> a : json.object("attributes").properties()) {
            if (!a.getValue().isTextual()) {
                throw json.wrongType("attributes." + a.getKey(), "a string", a.getValue());
            }
            attributes.put(a.getKey(), a.getValue().textValue());
        }
        return attributes;
    }
}
