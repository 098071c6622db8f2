package dev.sift.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.model.bundle.Pooling;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.RequestCodec;
import dev.sift.schemas.TextRequest;
import dev.sift.serving.testing.TestModels;
import dev.sift.testing.kafka.KafkaTestCluster;
import dev.sift.trainer.cli.SiftTrainer;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job and the trainer on a broker that demands SASL: both take their client security settings
 * from a properties file ({@code sift.kafka.properties-file}, {@code --kafka-config}), as they
 * would for SASL_SSL in production. A wrong password is refused, so the broker really checks.
 */
class SaslKafkaITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    private static KafkaTestCluster kafka;

    @TempDir Path dir;

    @BeforeAll
    static void startBroker() {
        kafka = KafkaTestCluster.startWithSasl();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        kafka.close();
    }

    @Test
    void aWrongPasswordIsRefused() {
        Properties wrong =
                KafkaTestCluster.saslPlain(KafkaTestCluster.SASL_USER, "not-the-password");
        wrong.put("bootstrap.servers", kafka.bootstrapServers());
        try (Admin admin = Admin.create(wrong)) {
            assertThatThrownBy(() -> admin.listTopics().names().get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(SaslAuthenticationException.class);
        }
    }

    @Test
    void theJobClassifiesAndTheTrainerAnnouncesOverSasl() throws Exception {
        String requests = kafka.newTopic("requests", 2);
        String results = kafka.newTopic("results", 2);
        String models = kafka.newTopic("models", 1);
        Path registry = dir.resolve("registry");
        TestModels testModels = new TestModels(registry);
        testModels.publish("spam", 1, Pooling.CLS);
        Path clientConfig = dir.resolve("client.properties");
        try (Writer writer = Files.newBufferedWriter(clientConfig)) {
            KafkaTestCluster.saslPlain(KafkaTestCluster.SASL_USER, KafkaTestCluster.SASL_PASSWORD)
                    .store(writer, "SASL/PLAIN client login");
        }
        Configuration config =
                SiftJob.parseArgs(
                        "--sift.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                        "--sift.kafka.properties-file=" + clientConfig,
                        "--sift.topics.requests=" + requests,
                        "--sift.topics.results=" + results,
                        "--sift.topics.dead-letters=" + kafka.newTopic("dead-letters", 1),
                        "--sift.topics.shadow=" + kafka.newTopic("shadow", 1),
                        "--sift.topics.feedback=" + kafka.newTopic("feedback", 1),
                        "--sift.topics.models=" + models,
                        "--sift.kafka.group-id=" + requests,
                        "--sift.registry=" + registry,
                        "--sift.parallelism=2",
                        "--sift.checkpoint.interval=500 ms");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        SiftJob.wire(env, config);
        JobClient job = env.executeAsync("sift-sasl");
        try {
            while (job.getJobStatus().get() != JobStatus.RUNNING) {
                Thread.sleep(50);
            }
            kafka.send(requests, requests(0, 20));
            assertThat(versions(results, 20)).hasSize(20).containsOnly(1L);

            testModels.publish("spam", 2, Pooling.MEAN);
            int exit =
                    SiftTrainer.run(
                            "announce",
                            "--registry=" + registry,
                            "--model=spam",
                            "--bootstrap-servers=" + kafka.bootstrapServers(),
                            "--kafka-config=" + clientConfig,
                            "--topic=" + models);
            assertThat(exit).as("trainer announce exit code").isZero();

            // The announced version answers: it travelled over SASL both ways.
            new VersionProbe(kafka, requests, results).await("spam", 2, Duration.ofSeconds(60));
        } finally {
            job.cancel().get();
        }
    }

    private static List<Long> versions(String topic, int expected) throws Exception {
        return Results.read(kafka, topic, expected, Duration.ofSeconds(60)).stream()
                .map(ClassificationResult::getModelVersion)
                .toList();
    }

    private static List<byte[]> requests(int from, int to) {
        RequestCodec codec = new RequestCodec();
        List<byte[]> values = new ArrayList<>();
        for (int i = from; i < to; i++) {
            values.add(
                    codec.encode(
                            TextRequest.newBuilder()
                                    .setId("s-" + i)
                                    .setText("free prize inside " + i)
                                    .build()));
        }
        return values;
    }
}
