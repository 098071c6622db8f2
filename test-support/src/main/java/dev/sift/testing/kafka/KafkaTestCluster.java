package dev.sift.testing.kafka;

import dev.sift.kafka.embedded.EmbeddedKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka broker for tests: a Testcontainers {@code apache/kafka} container where a Docker
 * engine answers and has a usable image, an in-process KRaft broker ({@link InProcessKafka})
 * otherwise. One cluster per JVM is shared by every test ({@link #shared()}); tests isolate
 * themselves with {@link #newTopic}.
 *
 * <p>The system property or environment variable {@value #BROKER_PROPERTY} ({@code
 * SIFT_KAFKA_BROKER}) picks the broker: {@code auto} (the default: a container when possible, with
 * a logged reason when not), {@code container} (a container or a failed test, so a CI run cannot
 * pass on the fallback unnoticed), or {@code in-process}.
 */
public abstract class KafkaTestCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaTestCluster.class);
    private static KafkaTestCluster shared;

    /** An ordinary user of a {@link #startWithSasl()} broker, and its password. */
    public static final String SASL_USER = EmbeddedKafka.SASL_USER;

    public static final String SASL_PASSWORD = EmbeddedKafka.SASL_PASSWORD;

    /** Which broker {@link #start} gives: auto, container or in-process. */
    public static final String BROKER_PROPERTY = "sift.kafka.broker";

    private boolean closed;

    /**
     * The JVM-wide cluster, started on first use. A JUnit run stops it when its session ends
     * ({@link CloseSharedKafka}); anything else, when the JVM exits.
     */
    public static synchronized KafkaTestCluster shared() {
        if (shared == null) {
            shared = start(Map.of());
            KafkaTestCluster cluster = shared;
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(cluster::closeQuietly, "kafka-test-cluster-stop"));
        }
        return shared;
    }

    /**
     * Stops the shared cluster now, if one runs; a later {@link #shared()} starts a new one.
     * Stopping in a shutdown hook races Kafka's own hooks, which delete the broker's folders
     * underneath it; a broker that loses its log directory halts the JVM with a non-zero code.
     */
    static synchronized void closeShared() {
        if (shared != null) {
            LOG.info("Stopping the shared Kafka test cluster");
            shared.closeQuietly();
            shared = null;
        }
    }

    /** A new cluster with extra broker settings; the caller closes it. */
    public static KafkaTestCluster start(Map<String, String> brokerConfig) {
        String choice = brokerChoice();
        switch (choice) {
            case "in-process":
                LOG.info("{}=in-process: starting an in-process KRaft broker", BROKER_PROPERTY);
                return new InProcessKafka(EmbeddedKafka.start(brokerConfig));
            case "container":
                ContainerKafka.unusable()
                        .ifPresent(
                                problem -> {
                                    throw new IllegalStateException(
                                            BROKER_PROPERTY
                                                    + "=container, but "
                                                    + problem
                                                    + "; or use auto or in-process");
                                });
                LOG.info("Starting Kafka in a Testcontainers container ({})", ContainerKafka.IMAGE);
                return new ContainerKafka(brokerConfig);
            case "auto":
                var problem = ContainerKafka.unusable();
                if (problem.isPresent()) {
                    LOG.info("{}; starting an in-process KRaft broker", problem.get());
                    return new InProcessKafka(EmbeddedKafka.start(brokerConfig));
                }
                LOG.info("Starting Kafka in a Testcontainers container ({})", ContainerKafka.IMAGE);
                return new ContainerKafka(brokerConfig);
            default:
                throw new IllegalArgumentException(
                        BROKER_PROPERTY
                                + "="
                                + choice
                                + " is not a broker; use auto, container or in-process");
        }
    }

    /**
     * A cluster that someone else runs (a compose stack, a remote broker), reached at {@code
     * bootstrapServers}; {@link #close()} leaves it running.
     */
    public static KafkaTestCluster connect(String bootstrapServers) {
        return new KafkaTestCluster() {
            @Override
            public String bootstrapServers() {
                return bootstrapServers;
            }

            @Override
            public void close() {}
        };
    }

    private static String brokerChoice() {
        String value = System.getProperty(BROKER_PROPERTY);
        if (value == null || value.isBlank()) {
            value = System.getenv("SIFT_KAFKA_BROKER");
        }
        return value == null || value.isBlank() ? "auto" : value.trim();
    }

    /**
     * An in-process broker whose clients must authenticate with SASL_PLAINTEXT and PLAIN. Its
     * {@link #clientProperties()} log in as the broker's admin; {@link #SASL_USER} and {@link
     * #SASL_PASSWORD} are an ordinary user.
     */
    public static KafkaTestCluster startWithSasl() {
        return new InProcessKafka(EmbeddedKafka.startWithSasl());
    }

    /** Client properties that log in with SASL_PLAINTEXT and PLAIN as {@code user}. */
    public static Properties saslPlain(String user, String password) {
        return EmbeddedKafka.saslPlain(user, password);
    }

    public abstract String bootstrapServers();

    /** Properties every client of this cluster needs (bootstrap servers, security). */
    public Properties clientProperties() {
        Properties properties = new Properties();
        properties.put("bootstrap.servers", bootstrapServers());
        return properties;
    }

    /** Creates a topic with a unique name and returns the name. */
    public String newTopic(String prefix, int partitions) {
        String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        ensureTopic(name, partitions);
        return name;
    }

    /**
     * Creates {@code name} unless it exists, and returns when every partition has a leader.
     * "Exists" is success: the topic may be there already, or the admin client's retry of a create
     * that timed out found the topic its first attempt made (seen once on a freshly started
     * three-broker cluster, for a name no one else could have used).
     */
    public void ensureTopic(String name, int partitions) {
        try (Admin admin = Admin.create(clientProperties())) {
            try {
                admin.createTopics(List.of(new NewTopic(name, partitions, replicationFactor())))
                        .all()
                        .get(60, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
            awaitLeaders(admin, name, Duration.ofSeconds(60));
        } catch (Exception e) {
            throw new IllegalStateException("Cannot create topic " + name, e);
        }
    }

    /**
     * Waits until every partition of {@code topic} has a leader in the metadata a client is given.
     * The creation's future completes when the controller has the topic; a broker's metadata can
     * trail it, and a job's topic check started at once (seen on a Testcontainers broker) was then
     * told the topic does not exist.
     */
    private static void awaitLeaders(Admin admin, String topic, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                TopicDescription description =
                        admin.describeTopics(List.of(topic))
                                .topicNameValues()
                                .get(topic)
                                .get(10, TimeUnit.SECONDS);
                if (description.partitions().stream().allMatch(KafkaTestCluster::hasLeader)) {
                    return;
                }
                last = null;
            } catch (ExecutionException | TimeoutException e) {
                last = e; // not in this broker's metadata yet
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException(
                topic + " has a partition without a leader after " + timeout, last);
    }

    /** Whether {@code partition} has a leader in the metadata a client was given. */
    protected static boolean hasLeader(TopicPartitionInfo partition) {
        return partition.leader() != null && !partition.leader().isEmpty();
    }

    /** How many replicas {@link #newTopic} gives each partition: one, on a one-broker cluster. */
    protected short replicationFactor() {
        return 1;
    }

    public void send(String topic, List<byte[]> values) {
        Properties config = clientProperties();
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (byte[] value : values) {
                producer.send(new ProducerRecord<>(topic, value));
            }
            producer.flush();
        }
    }

    /** Sends one keyed record and waits until the broker has it; a refusal is thrown. */
    public void send(String topic, byte[] key, byte[] value) throws Exception {
        Properties config = clientProperties();
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
        }
    }

    /**
     * Reads {@code topic} from the beginning with {@code read_committed} until {@code expected}
     * records arrived or {@code timeout} passed; returns what arrived.
     */
    public List<ConsumerRecord<byte[], byte[]>> readCommitted(
            String topic, int expected, Duration timeout) {
        Properties config = clientProperties();
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "test-reader-" + UUID.randomUUID());
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (records.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    synchronized void closeQuietly() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            close();
        } catch (Exception e) {
            LOG.warn("Stopping the Kafka test cluster failed", e);
        }
    }
}
