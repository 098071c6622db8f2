package dev.sift.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.schemas.ModelAction;
import dev.sift.trainer.publish.Announcer;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The demo's last act, as a user would take a version live: the candidate runs in shadow beside the
 * serving version, the mails' corpus labels go back as feedback, and the job's own metrics (read
 * from the Flink REST API, summed over subtasks) say how often the two agreed and how accurate each
 * was on the same mails; the candidate is promoted if it did better, and its shadow stopped if not.
 */
final class ShadowTrial {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final ModelRegistry registry;
    private final Properties kafka;
    private final String rest;
    private final String job;
    private final PrintStream out;

    /** The job's vertex ids, read once: a running job's graph does not change. */
    private List<String> vertices;

    ShadowTrial(
            ModelRegistry registry, Properties kafka, int restPort, String job, PrintStream out) {
        this.registry = registry;
        this.kafka = kafka;
        this.rest = "http://localhost:" + restPort;
        this.job = job;
        this.out = out;
    }

    /** Announces {@code candidate} as the shadow of {@code serving}. */
    void start(ModelBundle candidate, ModelBundle serving) throws Exception {
        Announcer.announce(
                registry,
                Announcer.announcement(registry, candidate, ModelAction.SHADOW, null),
                Demo.MODELS,
                kafka);
        out.printf(
                "  announced %s v%d as the shadow of v%d: it answers every mail, to %s only%n",
                Demo.MODEL, candidate.version(), serving.version(), Demo.SHADOW);
    }

    /**
     * Sends the corpus label of every mail sent as feedback, waits until the job has judged {@code
     * serving}'s answers to them, prints the figures and promotes or stops the candidate.
     */
    void judge(ModelBundle candidate, ModelBundle serving, Map<String, String> truths)
            throws Exception {
        sendFeedback(truths);
        out.printf(
                "  fed back the corpus labels of %d mails to %s%n", truths.size(), Demo.FEEDBACK);
        String version = "model." + Demo.MODEL + ".version.";
        String candidateMetrics = version + candidate.version() + ".";
        String servingMetrics = version + serving.version() + ".";
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        double servingLabeled = 0;
        double candidateLabeled = 0;
        while (System.nanoTime() < deadline) {
            servingLabeled = metric("join-feedback." + servingMetrics + "feedbackLabeled");
            candidateLabeled = metric("join-feedback." + candidateMetrics + "feedbackLabeled");
            if (servingLabeled > 0 && candidateLabeled > 0) {
                break;
            }
            Thread.sleep(2_000); // the REST API's metrics are fetched every few seconds
        }
        double compared = metric("infer." + candidateMetrics + "shadowCompared");
        double agreed = metric("infer." + candidateMetrics + "shadowAgreed");
        double servingAccuracy =
                metric("join-feedback." + servingMetrics + "feedbackCorrect") / servingLabeled;
        double candidateAccuracy =
                metric("join-feedback." + candidateMetrics + "feedbackCorrect") / candidateLabeled;
        out.printf(
                Locale.ROOT,
                "  shadow v%d agreed with v%d on %.0f of %.0f mails (%.1f%%)%n",
                candidate.version(),
                serving.version(),
                agreed,
                compared,
                100 * agreed / compared);
        out.printf(
                Locale.ROOT,
                "  live accuracy from feedback: v%d %.3f on %.0f mails, v%d %.3f on %.0f mails%n",
                serving.version(),
                servingAccuracy,
                servingLabeled,
                candidate.version(),
                candidateAccuracy,
                candidateLabeled);
        if (candidateAccuracy > servingAccuracy) {
            Announcer.announce(
                    registry,
                    Announcer.announcement(registry, candidate, ModelAction.ACTIVATE, null),
                    Demo.MODELS,
                    kafka);
            out.printf(
                    "  promoted v%d: it did better; it serves from its loaded shadow copy%n",
                    candidate.version());
        } else {
            Announcer.announce(
                    registry,
                    Announcer.announcement(registry, candidate, ModelAction.STOP_SHADOW, null),
                    Demo.MODELS,
                    kafka);
            out.printf(
                    "  stopped the shadow: v%d did not do better; v%d keeps serving%n",
                    candidate.version(), serving.version());
        }
    }

    private void sendFeedback(Map<String, String> truths) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(kafka, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (var entry : truths.entrySet()) {
                ObjectNode feedback = JSON.createObjectNode();
                feedback.put("id", entry.getKey());
                feedback.put("model", Demo.MODEL);
                feedback.put("label", entry.getValue());
                producer.send(
                        new ProducerRecord<>(
                                Demo.FEEDBACK,
                                entry.getKey().getBytes(StandardCharsets.UTF_8),
                                JSON.writeValueAsBytes(feedback)));
            }
            producer.flush();
        }
    }

    /** A metric of the job summed over every subtask of every vertex that has it; 0 if none. */
    private double metric(String name) throws IOException, InterruptedException {
        double sum = 0;
        for (String vertex : vertices()) {
            JsonNode values =
                    get("/jobs/" + job + "/vertices/" + vertex + "/subtasks/metrics?get=" + name);
            for (JsonNode value : values) {
                sum += value.path("sum").asDouble(0);
            }
        }
        return sum;
    }

    private List<String> vertices() throws IOException, InterruptedException {
        if (vertices == null) {
            List<String> ids = new ArrayList<>();
            for (JsonNode vertex : get("/jobs/" + job).path("vertices")) {
                ids.add(vertex.path("id").asText());
            }
            vertices = List.copyOf(ids);
        }
        return vertices;
    }

    private JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> response =
                HTTP.send(
                        HttpRequest.newBuilder(URI.create(rest + path))
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(response.body());
    }
}
