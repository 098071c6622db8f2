package dev.sift.deploy;

import dev.sift.schemas.RequestCodec;
import dev.sift.schemas.TextRequest;
import dev.sift.testing.kafka.KafkaTestCluster;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A producer thread that sends numbered requests ({@code r-0}, {@code r-1}, ...) at a steady rate
 * until stopped, through whatever the cluster goes through meanwhile. It remembers when each was
 * sent and which ones the broker acknowledged: only those count as sent. The producer is idempotent
 * (acks=all), so a retry after a broker failure does not write a request twice.
 */
final class Traffic implements AutoCloseable {

    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final long periodNanos;
    private final RequestCodec codec = new RequestCodec();
    private final Map<String, Long> sentAt = new ConcurrentHashMap<>();
    private final Map<String, Boolean> acknowledged = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Refusal> refusals = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean running = true;

    Traffic(KafkaTestCluster kafka, String topic, int perSecond) {
        Properties config = kafka.clientProperties();
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        config.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        // Room for a broker restart or a leader election: keep retrying rather than give up.
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "180000");
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "180000");
        this.producer =
                new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
        this.topic = topic;
        this.periodNanos = TimeUnit.SECONDS.toNanos(1) / perSecond;
        this.thread = new Thread(this::run, "traffic-" + topic);
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        long next = System.nanoTime();
        for (int i = 0; running; i++) {
            String id = "r-" + i;
            String text = (i % 2 == 0 ? "win free cash now " : "meeting notes for tomorrow ") + i;
            byte[] value = codec.encode(TextRequest.newBuilder().setId(id).setText(text).build());
            sentAt.put(id, System.currentTimeMillis());
            producer.send(
                    new ProducerRecord<>(topic, value),
                    (metadata, error) -> {
                        if (error == null) {
                            acknowledged.put(id, true);
                        } else {
                            refusals.add(
                                    new Refusal(
                                            metadata == null ? -1 : metadata.partition(), error));
                        }
                    });
            next += periodNanos;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(wait);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** Requests handed to the producer so far. */
    int count() {
        return sentAt.size();
    }

    /** When each request was handed to the producer, in epoch milliseconds. */
    Map<String, Long> sentAt() {
        return sentAt;
    }

    /** Stops sending and waits until every request in flight is acknowledged or failed. */
    void stop() throws InterruptedException {
        running = false;
        thread.join();
        producer.flush();
    }

    /** The ids the broker acknowledged. */
    Set<String> acknowledged() {
        return acknowledged.keySet();
    }

    /** The highest-numbered request the broker acknowledged. */
    String lastAcknowledged() {
        return acknowledged.keySet().stream()
                .max(Comparator.comparingInt(id -> Integer.parseInt(id.substring(2))))
                .orElseThrow(() -> new IllegalStateException("No request was acknowledged"));
    }

    /** How many sends the producer gave up on. */
    int refused() {
        return refusals.size();
    }

    /**
     * The sends the producer gave up on, counted by partition, and the first one's error: a line,
     * where the errors themselves would be hundreds of lines of the same text.
     */
    String refusalSummary() {
        Map<Integer, Long> byPartition =
                refusals.stream()
                        .collect(
                                Collectors.groupingBy(
                                        Refusal::partition, TreeMap::new, Collectors.counting()));
        return refusals.isEmpty()
                ? "none"
                : String.format(
                        "%d refused, by partition %s; first: %s",
                        refusals.size(), byPartition, refusals.peek().error());
    }

    private record Refusal(int partition, Exception error) {}

    @Override
    public void close() {
        running = false;
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(10));
    }
}
