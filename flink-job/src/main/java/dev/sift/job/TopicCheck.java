package dev.sift.job;

import dev.sift.job.config.SiftOptions;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, before the job is submitted, that its five topics exist (six with feedback on); creates
 * the missing ones when {@link SiftOptions#CREATE_MISSING_TOPICS} is on, and otherwise fails once
 * with a message naming each missing topic and the command that creates it. Without this check a
 * missing topic shows up as a Kafka source or sink that fails on every restart, forever.
 *
 * <pre>{@code
 * TopicCheck.of(config).run();
 * }</pre>
 */
public final class TopicCheck {

    private static final Logger LOG = LoggerFactory.getLogger(TopicCheck.class);
    private static final long TIMEOUT_SECONDS = 30;

    private final String bootstrapServers;
    private final String clientPropertiesFile;
    private final Properties client;
    private final Map<String, String> topics; // topic name -> what it is for
    private final String modelsTopic;
    private final boolean createMissing;
    private final Integer partitions;
    private final Integer replicationFactor;

    private TopicCheck(Configuration config) throws IOException {
        this.bootstrapServers = SiftJob.require(config, SiftOptions.BOOTSTRAP_SERVERS);
        this.clientPropertiesFile = config.get(SiftOptions.KAFKA_PROPERTIES);
        this.client = SiftJob.kafkaProperties(config);
        client.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        client.putIfAbsent(
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                Long.toString(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS)));
        this.topics = new LinkedHashMap<>();
        topics.put(config.get(SiftOptions.REQUESTS_TOPIC), "requests");
        topics.put(config.get(SiftOptions.RESULTS_TOPIC), "results");
        topics.put(config.get(SiftOptions.DEAD_LETTER_TOPIC), "dead letters");
        topics.put(config.get(SiftOptions.SHADOW_TOPIC), "shadow answers");
        if (config.get(SiftOptions.FEEDBACK_ENABLED)) {
            topics.put(config.get(SiftOptions.FEEDBACK_TOPIC), "feedback");
        }
        topics.put(config.get(SiftOptions.MODELS_TOPIC), "model announcements");
        this.modelsTopic = config.get(SiftOptions.MODELS_TOPIC);
        this.createMissing = config.get(SiftOptions.CREATE_MISSING_TOPICS);
        this.partitions = config.get(SiftOptions.TOPIC_PARTITIONS);
        this.replicationFactor = config.get(SiftOptions.TOPIC_REPLICATION_FACTOR);
    }

    public static TopicCheck of(Configuration config) throws IOException {
        return new TopicCheck(config);
    }

    /**
     * Returns when every topic exists (after creating the missing ones, if asked); throws {@link
     * IllegalStateException} otherwise.
     */
    public void run() {
        try (Admin admin = Admin.create(client)) {
            List<String> missing = missing(admin);
            if (missing.isEmpty()) {
                return;
            }
            if (!createMissing) {
                throw new IllegalStateException(missingMessage(missing));
            }
            create(admin, missing);
        }
    }

    private List<String> missing(Admin admin) {
        Map<String, KafkaFuture<TopicDescription>> described =
                admin.describeTopics(topics.keySet()).topicNameValues();
        List<String> missing = new ArrayList<>();
        for (String topic : topics.keySet()) {
            try {
                described.get(topic).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                    missing.add(topic);
                } else {
                    throw cannot("check topic " + topic, e.getCause());
                }
            } catch (TimeoutException e) {
                throw cannot("check topic " + topic, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw cannot("check topic " + topic, e);
            }
        }
        return missing;
    }

    private void create(Admin admin, List<String> missing) {
        List<NewTopic> newTopics =
                missing.stream()
                        .map(
                                topic ->
                                        new NewTopic(
                                                topic,
                                                Optional.ofNullable(partitions(topic)),
                                                Optional.ofNullable(replicationFactor)
                                                        .map(Integer::shortValue)))
                        .toList();
        Map<String, KafkaFuture<Void>> created = admin.createTopics(newTopics).values();
        for (String topic : missing) {
            try {
                created.get(topic).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                LOG.info("Created the {} topic {}", topics.get(topic), topic);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    // Someone else created it meanwhile: that is what we wanted.
                    throw cannot(
                            "create topic " + topic + " (" + command(topic) + ")", e.getCause());
                }
            } catch (TimeoutException e) {
                throw cannot("create topic " + topic, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw cannot("create topic " + topic, e);
            }
        }
    }

    /** One partition for announcements, so they are read in the order they were sent. */
    private Integer partitions(String topic) {
        return topic.equals(modelsTopic) ? Integer.valueOf(1) : partitions;
    }

    private String missingMessage(List<String> missing) {
        StringBuilder message =
                new StringBuilder("Sift's Kafka topics are missing on ")
                        .append(bootstrapServers)
                        .append(": ");
        for (int i = 0; i < missing.size(); i++) {
            String topic = missing.get(i);
            message.append(i == 0 ? "" : ", ")
                    .append(topic)
                    .append(" (")
                    .append(topics.get(topic))
                    .append(')');
        }
        message.append(". Create them with:");
        for (String topic : missing) {
            message.append("\n  ").append(command(topic));
        }
        return message.append("\nor let the job create them: --")
                .append(SiftOptions.CREATE_MISSING_TOPICS.key())
                .append("=true (with --")
                .append(SiftOptions.TOPIC_PARTITIONS.key())
                .append(" and --")
                .append(SiftOptions.TOPIC_REPLICATION_FACTOR.key())
                .append(" to choose their size).")
                .toString();
    }

    private String command(String topic) {
        StringBuilder command =
                new StringBuilder("kafka-topics.sh --bootstrap-server ")
                        .append(bootstrapServers)
                        .append(" --create --topic ")
                        .append(topic);
        Integer count = partitions(topic);
        if (count != null) {
            command.append(" --partitions ").append(count);
        }
        if (replicationFactor != null) {
            command.append(" --replication-factor ").append(replicationFactor);
        }
        if (clientPropertiesFile != null) {
            command.append(" --command-config ").append(clientPropertiesFile);
        }
        return command.toString();
    }

    private IllegalStateException cannot(String what, Throwable cause) {
        return new IllegalStateException(
                "Cannot " + what + " on Kafka at " + bootstrapServers + ": " + cause, cause);
    }
}
