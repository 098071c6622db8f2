package dev.sift.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.schemas.RequestCodec;
import dev.sift.schemas.TextRequest;
import dev.sift.testing.kafka.KafkaTestCluster;
import dev.sift.trainer.data.DatasetReader;
import dev.sift.trainer.data.Example;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code corpus feedback} against a real Kafka broker, a fresh pair of topics per test. */
class FeedbackCorpusCommandTest {

    @TempDir Path dir;

    @Test
    void writesEachRequestWithTheLastLabelItsFeedbackGave() throws Exception {
        KafkaTestCluster kafka = KafkaTestCluster.shared();
        String requests = kafka.newTopic("sift.requests", 2);
        String feedback = kafka.newTopic("sift-feedback", 1);
        byte[] avro =
                new RequestCodec()
                        .encode(
                                TextRequest.newBuilder()
                                        .setId("r2")
                                        .setText("lunch on friday?")
                                        .setModels(List.of("spam"))
                                        .build());
        send(kafka, requests, "{\"id\": \"r1\", \"text\": \"WIN a FREE cruise\"}");
        kafka.send(requests, null, avro);
        send(
                kafka,
                requests,
                "{\"id\": \"r3\", \"text\": \"corn futures\", \"models\": [\"topic\"]}");
        send(kafka, requests, "not a request");
        send(
                kafka,
                requests,
                "{\"id\": \"p1\", \"text_a\": \"A man plays.\", \"text_b\": \"Music.\"}");
        send(kafka, feedback, feedback("r1", "spam", "ham"));
        send(kafka, feedback, feedback("r2", "spam", "ham"));
        send(kafka, feedback, feedback("r1", "spam", "spam")); // overrides the first
        send(kafka, feedback, feedback("r9", "spam", "ham")); // no such request
        send(kafka, feedback, feedback("r3", "spam", "ham")); // its request was for another model
        send(kafka, feedback, feedback("r2", "topic", "grain")); // feedback for another model
        send(kafka, feedback, "oops");
        Path out = dir.resolve("feedback.jsonl");

        TrainerRun run = corpusFeedback(kafka, requests, feedback, "spam", out);

        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out())
                .contains(
                        "5 feedback records for spam, 2 joined to their request and written to "
                                + out
                                + ", 2 without their request (1 unreadable feedback and 1"
                                + " unreadable request records skipped)")
                .contains("next: sift-trainer train --data " + out + " --model spam");
        assertThat(new DatasetReader().read(out).examples())
                .as("what train reads")
                .containsExactly(
                        new Example("WIN a FREE cruise", null, "spam", Map.of("id", "r1")),
                        new Example("lunch on friday?", null, "ham", Map.of("id", "r2")));

        send(kafka, feedback, feedback("p1", "nli", "entailment"));
        Path pairs = dir.resolve("pairs.jsonl");
        TrainerRun pairRun = corpusFeedback(kafka, requests, feedback, "nli", pairs);
        assertThat(pairRun.exit()).as(pairRun.err()).isZero();
        assertThat(Files.readString(pairs)).contains("\"text_a\":\"A man plays.\"");
        assertThat(new DatasetReader().read(pairs).examples())
                .containsExactly(
                        new Example("A man plays.", "Music.", "entailment", Map.of("id", "p1")));
    }

    @Test
    void refusesWrongArgumentsWithTheirReason() {
        TrainerRun noBroker =
                TrainerRun.of(
                        List.of("corpus", "feedback", "--model", "spam", "--out", "x.jsonl"), null);
        assertThat(noBroker.exit()).isEqualTo(2);
        assertThat(noBroker.err()).contains("Missing --bootstrap-servers");

        TrainerRun noModel =
                TrainerRun.of(
                        List.of(
                                "corpus",
                                "feedback",
                                "--bootstrap-servers",
                                "localhost:1",
                                "--out",
                                "x.jsonl"),
                        null);
        assertThat(noModel.exit()).isEqualTo(2);
        assertThat(noModel.err()).contains("--model");

        TrainerRun noTopic =
                corpusFeedback(
                        KafkaTestCluster.shared(),
                        "sift.requests-that-is-not-there",
                        "sift-feedback-that-is-not-there",
                        "spam",
                        dir.resolve("none.jsonl"));
        assertThat(noTopic.exit()).isEqualTo(1);
        assertThat(noTopic.err()).contains("Topic sift-feedback-that-is-not-there does not exist");
    }

    private static TrainerRun corpusFeedback(
            KafkaTestCluster kafka, String requests, String feedback, String model, Path out) {
        return TrainerRun.of(
                List.of(
                        "corpus",
                        "feedback",
                        "--bootstrap-servers",
                        kafka.bootstrapServers(),
                        "--requests-topic",
                        requests,
                        "--feedback-topic",
                        feedback,
                        "--model",
                        model,
                        "--out",
                        out.toString(),
                        "--timeout-seconds",
                        "30"),
                null);
    }

    private static String feedback(String id, String model, String label) {
        return "{\"id\": \""
                + id
                + "\", \"model\": \""
                + model
                + "\", \"label\": \""
                + label
                + "\"}";
    }

    private static void send(KafkaTestCluster kafka, String topic, String value) throws Exception {
        kafka.send(topic, null, value.getBytes(StandardCharsets.UTF_8));
    }
}
