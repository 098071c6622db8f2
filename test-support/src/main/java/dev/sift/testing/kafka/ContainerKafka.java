package dev.sift.testing.kafka;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.utils.AppInfoParser;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.TestcontainersConfiguration;

/**
 * Apache Kafka's image in Docker, for machines where a Docker engine answers: the official {@code
 * apache/kafka} of the Kafka version on the classpath, or the local stand-in of the same name that
 * {@code deploy/images/build.sh} builds where no registry can be reached.
 */
final class ContainerKafka extends KafkaTestCluster {

    static final String IMAGE = "apache/kafka:" + AppInfoParser.getVersion();

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
     * Why no container can start here, if so: the image is neither in the engine nor pullable, or
     * Testcontainers' resource reaper (Ryuk) would need an image that is not there either.
     */
    static Optional<String> checkImage() {
        DockerClient docker = DockerClientFactory.instance().client();
        Optional<String> kafka = pullIfAbsent(docker, IMAGE);
        if (kafka.isPresent()) {
            return Optional.of(
                    kafka.get() + "; deploy/images/build.sh builds a local stand-in of that name");
        }
        if (!"true".equalsIgnoreCase(System.getenv("TESTCONTAINERS_RYUK_DISABLED"))) {
            String ryuk = TestcontainersConfiguration.getInstance().getRyukImage();
            Optional<String> reaper = pullIfAbsent(docker, ryuk);
            if (reaper.isPresent()) {
                return Optional.of(
                        reaper.get()
                                + "; without it, set TESTCONTAINERS_RYUK_DISABLED=true (the tests"
                                + " stop their containers themselves)");
            }
        }
        return Optional.empty();
    }

    private static Optional<String> pullIfAbsent(DockerClient docker, String image) {
        try {
            docker.inspectImageCmd(image).exec();
            return Optional.empty();
        } catch (NotFoundException absent) {
            DockerImageName name = DockerImageName.parse(image);
            try {
                boolean done =
                        docker.pullImageCmd(name.getUnversionedPart())
                                .withTag(name.getVersionPart())
                                .start()
                                .awaitCompletion(PULL_SECONDS, TimeUnit.SECONDS);
                if (done) {
                    docker.inspectImageCmd(image).exec();
                    return Optional.empty();
                }
                return Optional.of(
                        image
                                + " is not in the engine and pulling it took over "
                                + PULL_SECONDS
                                + " s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.of("interrupted while pulling " + image);
            } catch (RuntimeException e) {
                return Optional.of(
                        image
                                + " is not in the engine and cannot be pulled ("
                                + e.getMessage()
                                + ")");
            }
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
