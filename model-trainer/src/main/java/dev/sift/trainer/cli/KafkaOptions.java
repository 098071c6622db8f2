package dev.sift.trainer.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * Kafka client settings: {@code --bootstrap-servers} plus an optional properties file for anything
 * else (SASL/SSL: {@code security.protocol}, {@code sasl.mechanism}, {@code sasl.jaas.config},
 * trust stores).
 */
final class KafkaOptions {

    @Option(
            names = "--bootstrap-servers",
            description = "Kafka brokers, host:port[,host:port...]; needed to reach running jobs.")
    String bootstrapServers;

    @Option(
            names = "--kafka-config",
            description = "Kafka client properties file (security settings and the like).")
    Path configFile;

    Properties properties() throws IOException {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException(
                    "Missing --bootstrap-servers: running jobs are told through Kafka (or add"
                            + " --registry-only to record the announcement for jobs that start"
                            + " later)");
        }
        Properties properties = new Properties();
        if (configFile != null) {
            try (Reader reader = Files.newBufferedReader(configFile)) {
                properties.load(reader);
            }
        }
        properties.setProperty("bootstrap.servers", bootstrapServers);
        return properties;
    }
}
