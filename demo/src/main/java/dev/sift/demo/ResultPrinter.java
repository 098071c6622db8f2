package dev.sift.demo;

import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.OutputFormat;
import java.io.PrintStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads results with {@code read_committed}, as any consumer of an exactly-once job must, in either
 * output format, prints one line per labeled event and counts, per request id, how often it was
 * answered.
 */
final class ResultPrinter {

    private final Properties client;
    private final String topic;
    private final PrintStream out;
    private final Map<String, Integer> answers = new HashMap<>();
    private final Map<Long, Integer> byVersion = new TreeMap<>();
    private final Map<Long, String> kinds = new java.util.concurrent.ConcurrentHashMap<>();
    private int correct;
    private volatile boolean running = true;
    private Thread thread;

    ResultPrinter(Properties client, String topic, PrintStream out) {
        this.client = new Properties();
        this.client.putAll(client);
        this.client.put(ConsumerConfig.GROUP_ID_CONFIG, "sift-demo-printer");
        this.client.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        this.client.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        this.topic = topic;
        this.out = out;
    }

    /** Names how {@code version} classifies (e.g. "fine-tuned top 2 layers") in its lines. */
    void describe(long version, String kind) {
        kinds.put(version, kind);
    }

    void start() {
        thread = new Thread(this::run, "demo-printer");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        client, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record :
                        consumer.poll(Duration.ofMillis(200))) {
                    byte[] value = record.value();
                    ClassificationResult result = OutputFormat.of(value).results().decode(value);
                    String truth = result.getAttributes().getOrDefault("truth", "?");
                    synchronized (this) {
                        answers.merge(result.getId(), 1, Integer::sum);
                        byVersion.merge(result.getModelVersion(), 1, Integer::sum);
                        correct += truth.equals(result.getLabel()) ? 1 : 0;
                    }
                    out.printf(
                            Locale.ROOT,
                            "  %-10s %-5s p=%.3f  %s v%d %s  %4d ms  (truth %s, %s)%n",
                            result.getId(),
                            result.getLabel(),
                            result.getProbability(),
                            result.getModel(),
                            result.getModelVersion(),
                            kinds.getOrDefault(result.getModelVersion(), ""),
                            result.getLatencyMillis(),
                            truth,
                            result.getAttributes().getOrDefault("group", ""));
                }
            }
        } catch (Exception e) {
            if (running) {
                System.err.println("printer stopped: " + e);
            }
        }
    }

    /**
     * Waits until every sent id has been answered, or {@code limit}. Exactly-once results become
     * visible only when a checkpoint commits, so a pause in arrivals says nothing by itself.
     */
    void awaitAnswers(List<String> sent, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            synchronized (this) {
                if (answers.keySet().containsAll(sent)) {
                    return;
                }
            }
            Thread.sleep(200);
        }
    }

    synchronized void tally(List<String> sent) {
        long missing = sent.stream().filter(id -> !answers.containsKey(id)).count();
        long duplicated = answers.values().stream().filter(n -> n > 1).count();
        int total = answers.values().stream().mapToInt(Integer::intValue).sum();
        out.printf(
                Locale.ROOT,
                "  sent %d, answered %d, missing %d, duplicated %d; by version %s; %d of %d agree"
                        + " with the corpus label%n",
                sent.size(),
                answers.size(),
                missing,
                duplicated,
                versions(),
                correct,
                total);
    }

    private String versions() {
        StringBuilder text = new StringBuilder();
        byVersion.forEach(
                (version, count) ->
                        text.append(text.isEmpty() ? "" : ", ")
                                .append('v')
                                .append(version)
                                .append(' ')
                                .append(kinds.getOrDefault(version, ""))
                                .append(": ")
                                .append(count));
        return text.toString().replace(" :", ":");
    }

    void stop() {
        running = false;
    }
}
