package dev.sift.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.LabelProbability;
import dev.sift.schemas.RecordCodec;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads the job's results back: id, model version, label and every label's probability. */
public final class JobAnswers {

    /** One result: its model version, its label and every label's probability. */
    public record Answer(long version, String label, Map<String, Double> probabilities) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private JobAnswers() {}

    /**
     * A result as the job writes it: Avro single-object today; JSON (as issue 12 proposes for
     * readable results) is read too, so this reference does not depend on the chosen format.
     */
    public static Map.Entry<String, Answer> decode(byte[] value) throws Exception {
        RecordCodec<ClassificationResult> avro = RecordCodec.of(ClassificationResult.class);
        if (avro.accepts(value)) {
            ClassificationResult r = avro.decode(value);
            Map<String, Double> p = new LinkedHashMap<>();
            for (LabelProbability lp : r.getProbabilities()) {
                p.put(lp.getLabel(), (double) lp.getProbability());
            }
            return Map.entry(r.getId(), new Answer(r.getModelVersion(), r.getLabel(), p));
        }
        JsonNode r = JSON.readTree(value);
        JsonNode version = r.has("modelVersion") ? r.get("modelVersion") : r.get("model_version");
        Map<String, Double> p = new LinkedHashMap<>();
        JsonNode probabilities = r.get("probabilities");
        if (probabilities.isObject()) {
            probabilities
                    .fields()
                    .forEachRemaining(e -> p.put(e.getKey(), e.getValue().asDouble()));
        } else {
            for (JsonNode lp : probabilities) {
                p.put(lp.get("label").asText(), lp.get("probability").asDouble());
            }
        }
        return Map.entry(
                r.get("id").asText(), new Answer(version.asLong(), r.get("label").asText(), p));
    }
}
