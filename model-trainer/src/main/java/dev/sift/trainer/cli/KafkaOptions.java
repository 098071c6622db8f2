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
            required = true,
            description = "Kafka brokers, host:port[,host:port...].")
    String bootstrapServers;

    @Option(
            names = "--kafka-config",
            description = "Kafka client properties file (security settings and the like).")
    Path configFile;

    Properties properties() throws IOException {
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
