package dev.sift.testing.kafka;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.utils.AppInfoParser;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

/**
 * Apache Kafka's image in Docker, for machines where a Docker engine answers: the official {@code
 * apache/kafka} of the Kafka version on the classpath, or the local stand-in of the same name that
 * {@code deploy/images/build.sh} builds where no registry can be reached.
 */
final class ContainerKafka extends KafkaTestCluster {

    static final String IMAGE = "apache/kafka:" + AppInfoParser.getVersion();

    /** The reaper image of Testcontainers 2.0.5 (its RyukContainer; not public API). */
    private static final String RYUK_IMAGE = "testcontainers/ryuk:0.14.0";

    private static final long PULL_SECONDS = 120;

    private final KafkaContainer container;

    ContainerKafka(Map<String, String> brokerConfig) {
        container = new KafkaContainer(IMAGE);
        brokerConfig.forEach(
                (key, value) ->
                        container.withEnv(
                                "KAFKA_" + key.toUpperCase(Locale.ROOT).replace('.', '_'), value));
        container.start();
    }

    /**
     * Why no container can start here, if so: no engine answers, or an image it needs (Kafka's, and
     * Ryuk's, Testcontainers' reaper, unless {@code TESTCONTAINERS_RYUK_DISABLED=true}) is neither
     * in the engine nor pullable. Asked through the {@code docker} command where there is one,
     * because Testcontainers itself retries a failing pull for two minutes before it gives up.
     */
    static Optional<String> unusable() {
        List<String> images = new ArrayList<>(List.of(IMAGE));
        if (!"true".equalsIgnoreCase(System.getenv("TESTCONTAINERS_RYUK_DISABLED"))) {
            images.add(RYUK_IMAGE);
        }
        Optional<Boolean> engine = docker(30, "info");
        if (engine.isEmpty()) {
            // No docker command: Testcontainers finds an engine its own way.
            return DockerClientFactory.instance().isDockerAvailable()
                    ? Optional.empty()
                    : Optional.of("no Docker engine that Testcontainers can use answers");
        }
        if (!engine.get()) {
            return Optional.of("no Docker engine answers");
        }
        for (String image : images) {
            if (!docker(30, "image", "inspect", image).orElse(false)
                    && !docker(PULL_SECONDS, "pull", "--quiet", image).orElse(false)) {
                return Optional.of(
                        image
                                + " is not in the Docker engine and cannot be pulled"
                                + (image.equals(IMAGE)
                                        ? " (deploy/images/build.sh builds a local stand-in)"
                                        : " (without it, set TESTCONTAINERS_RYUK_DISABLED=true:"
                                                + " the tests stop their containers themselves)"));
            }
        }
        return Optional.empty();
    }

    /** Whether {@code docker args} succeeded; empty where there is no docker command. */
    private static Optional<Boolean> docker(long timeoutSeconds, String... args) {
        List<String> command = new ArrayList<>(List.of("docker"));
        command.addAll(List.of(args));
        try {
            Process process =
                    new ProcessBuilder(command)
                            .redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                            .start();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return Optional.of(false);
            }
            return Optional.of(process.exitValue() == 0);
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of(false);
        }
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
