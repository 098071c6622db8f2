package dev.sift.testing.kafka;

import java.util.Map;
import org.testcontainers.kafka.KafkaContainer;

/** Apache Kafka's own image in Docker, for machines where a Docker engine answers. */
final class ContainerKafka extends KafkaTestCluster {

    static final String IMAGE = "apache/kafka:4.2.0";

    private final KafkaContainer container;

    ContainerKafka(Map<String, String> brokerConfig) {
        container = new KafkaContainer(IMAGE);
        brokerConfig.forEach(
                (key, value) ->
                        container.withEnv(
                                "KAFKA_" + key.toUpperCase(java.util.Locale.ROOT).replace('.', '_'),
                                value));
        container.start();
    }

    @Override
    public String bootstrapServers() {
        return container.getBootstrapServers();
    }

    @Override
    public void close() {
        container.stop();
    }
}
