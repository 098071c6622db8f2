package dev.sift.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.testing.kafka.KafkaTestCluster;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.Test;

/**
 * The job's start on a Kafka without its topics, against a real broker: it stops once, naming each
 * missing topic and the command that creates it, or creates them when asked to.
 */
class TopicCheckITCase {

    private final KafkaTestCluster kafka = KafkaTestCluster.shared();

    @Test
    void missingTopicsStopTheJobBeforeSubmissionWithTheCommandsThatCreateThem() throws Exception {
        String requests = kafka.newTopic("requests", 1);
        String results = unique("results");
        String models = unique("models");
        Configuration config =
                SiftJob.parseArgs(
                        "--sift.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                        "--sift.topics.requests=" + requests,
                        "--sift.topics.results=" + results,
                        "--sift.topics.dead-letters=" + kafka.newTopic("dead-letters", 1),
                        "--sift.topics.shadow=" + kafka.newTopic("shadow", 1),
                        "--sift.topics.feedback=" + kafka.newTopic("feedback", 1),
                        "--sift.topics.models=" + models,
                        "--sift.topics.partitions=3");

        assertThatThrownBy(
                        () ->
                                SiftJob.wire(
                                        StreamExecutionEnvironment.getExecutionEnvironment(),
                                        config))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(results + " (results), " + models + " (model announcements)")
                .hasMessageNotContaining(requests)
                .hasMessageContaining(
                        "kafka-topics.sh --bootstrap-server "
                                + kafka.bootstrapServers()
                                + " --create --topic "
                                + results
                                + " --partitions 3")
                .hasMessageContaining("--create --topic " + models + " --partitions 1")
                .hasMessageContaining("--sift.topics.create-missing=true");
        assertThat(existing(results, models)).isEmpty();
    }

    @Test
    void theOptionCreatesTheMissingTopicsWithTheGivenPartitions() throws Exception {
        String requests = unique("requests");
        String results = unique("results");
        String deadLetters = unique("dead-letters");
        String shadow = unique("shadow");
        String feedback = unique("feedback");
        String models = unique("models");
        Configuration config =
                SiftJob.parseArgs(
                        "--sift.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                        "--sift.topics.requests=" + requests,
                        "--sift.topics.results=" + results,
                        "--sift.topics.dead-letters=" + deadLetters,
                        "--sift.topics.shadow=" + shadow,
                        "--sift.topics.feedback=" + feedback,
                        "--sift.feedback.enabled=true",
                        "--sift.topics.models=" + models,
                        "--sift.topics.create-missing=true",
                        "--sift.topics.partitions=3",
                        "--sift.topics.replication-factor=1");

        SiftJob.wire(StreamExecutionEnvironment.getExecutionEnvironment(), config);

        assertThat(existing(requests, results, deadLetters, shadow, feedback, models))
                .containsExactlyInAnyOrderEntriesOf(
                        Map.of(
                                requests,
                                3,
                                results,
                                3,
                                deadLetters,
                                3,
                                shadow,
                                3,
                                feedback,
                                3,
                                models,
                                1));
        TopicCheck.of(config).run(); // all there now: nothing to do, nothing fails
    }

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** The given topics that exist, with their partition counts. */
    private Map<String, Integer> existing(String... topics) throws Exception {
        try (Admin admin = Admin.create(kafka.clientProperties())) {
            Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<String> present = List.of(topics).stream().filter(names::contains).toList();
            return admin
                    .describeTopics(present)
                    .allTopicNames()
                    .get(30, TimeUnit.SECONDS)
                    .values()
                    .stream()
                    .collect(Collectors.toMap(TopicDescription::name, d -> d.partitions().size()));
        }
    }
}
