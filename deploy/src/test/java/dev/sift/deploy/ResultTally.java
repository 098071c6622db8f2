package dev.sift.deploy;

import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.OutputFormat;
import dev.sift.testing.kafka.KafkaTestCluster;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A consumer thread that reads a results topic from the beginning with {@code read_committed}, as
 * long as the test runs, and counts the results per request id: when each id was first seen, how
 * often, and by which model version. Only committed results count: what a Sift consumer sees.
 *
 * <p>A duplicate is two records in the log, not one record read twice: the consumer is assigned its
 * partitions (no group, so no rebalance after a broker restart rewinds it to the beginning), and an
 * offset seen before is skipped all the same.
 */
final class ResultTally implements AutoCloseable {

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Map<String, Integer> counts = new ConcurrentHashMap<>();
    private final Map<String, Long> firstSeen = new ConcurrentHashMap<>();
    private final Map<String, Long> versions = new ConcurrentHashMap<>();
    private final Set<String> offsets = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<Exception> errors = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean running = true;

    ResultTally(KafkaTestCluster kafka, String topic) {
        Properties config = kafka.clientProperties();
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        consumer =
                new KafkaConsumer<>(
                        config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions =
                consumer.partitionsFor(topic).stream()
                        .map(info -> new TopicPartition(topic, info.partition()))
                        .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        thread = new Thread(this::run, "tally-" + topic);
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        while (running) {
            try {
                for (ConsumerRecord<byte[], byte[]> record :
                        consumer.poll(Duration.ofMillis(200))) {
                    if (!offsets.add(record.partition() + "@" + record.offset())) {
                        continue;
                    }
                    byte[] value = record.value();
                    ClassificationResult result = OutputFormat.of(value).results().decode(value);
                    String id = result.getId();
                    long now = System.currentTimeMillis();
                    firstSeen.putIfAbsent(id, now);
                    counts.merge(id, 1, Integer::sum);
                    versions.put(id, result.getModelVersion());
                }
            } catch (Exception e) {
                errors.add(e);
            }
        }
    }

    /** Results per request id so far. */
    Map<String, Integer> counts() {
        return Map.copyOf(counts);
    }

    /** The model version that answered {@code id}, if it was answered. */
    Long version(String id) {
        return versions.get(id);
    }

    /** The version that answered each request so far. */
    Map<String, Long> versions() {
        return Map.copyOf(versions);
    }

    /** Whether a request sent after {@code sinceMillis} was answered by {@code version}. */
    boolean answeredBy(long version, long sinceMillis, Map<String, Long> sentAt) {
        return versions.entrySet().stream()
                .anyMatch(
                        e ->
                                e.getValue() == version
                                        && sentAt.getOrDefault(e.getKey(), 0L) > sinceMillis);
    }

    /**
     * When the first result for a request sent after {@code sinceMillis} arrived: the end of an
     * outage as a consumer sees it.
     */
    OptionalLong firstAnswerToRequestSentAfter(long sinceMillis, Map<String, Long> sentAt) {
        return firstSeen.entrySet().stream()
                .filter(e -> sentAt.getOrDefault(e.getKey(), 0L) > sinceMillis)
                .mapToLong(Map.Entry::getValue)
                .min();
    }

    List<Exception> errors() {
        return List.copyOf(errors);
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        consumer.close();
    }
}
