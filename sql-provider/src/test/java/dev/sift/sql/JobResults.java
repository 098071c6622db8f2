package dev.sift.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.job.SiftJob;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.LabelProbability;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.RecordCodec;
import dev.sift.testing.kafka.KafkaTestCluster;
import dev.sift.trainer.publish.Announcer;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * What Sift's DataStream job answers for a requests topic: the job itself ({@link SiftJob#wire}, as
 * deployed), started on the test's MiniCluster with a fresh consumer group and results topic, run
 * until every request is answered, then cancelled. With no model state it serves the registry's
 * newest version.
 */
final class JobResults {

    /** One result: its model version and every label's probability. */
    record Answer(long version, String label, Map<String, Double> probabilities) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private JobResults() {}

    static Map<String, Answer> run(
            KafkaTestCluster kafka, String requestsTopic, int expected, ModelBundle serving)
            throws Exception {
        ModelRegistry registry = ModelRegistry.at(serving.dir().getParent().getParent());
        Announcer.record(
                registry, Announcer.announcement(registry, serving, ModelAction.ACTIVATE, null));
        String results = kafka.newTopic("job-results", 1);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        SiftJob.wire(
                env,
                SiftJob.parseArgs(
                        "--sift.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                        "--sift.topics.requests=" + requestsTopic,
                        "--sift.topics.results=" + results,
                        "--sift.topics.dead-letters=" + kafka.newTopic("job-dead-letters", 1),
                        "--sift.topics.models=" + kafka.newTopic("job-models", 1),
                        "--sift.kafka.group-id=job-" + UUID.randomUUID(),
                        "--sift.registry=" + registry.root(),
                        "--sift.parallelism=2",
                        "--sift.checkpoint.interval=300 ms",
                        "--sift.batch.max-size=8",
                        "--sift.batch.max-wait=20 ms"));
        JobClient job = env.executeAsync("sift-job-reference");
        try {
            while (job.getJobStatus().get() != JobStatus.RUNNING) {
                Thread.sleep(50);
            }
            Map<String, Answer> answers = new HashMap<>();
            for (var record : kafka.readCommitted(results, expected, Duration.ofSeconds(90))) {
                var decoded = decode(record.value());
                answers.put(decoded.getKey(), decoded.getValue());
            }
            return answers;
        } finally {
            job.cancel().get();
        }
    }

    /**
     * A result as the job writes it: Avro single-object today; JSON (as issue 12 proposes for
     * readable results) is read too, so this reference does not depend on the chosen format.
     */
    private static Map.Entry<String, Answer> decode(byte[] value) throws Exception {
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
