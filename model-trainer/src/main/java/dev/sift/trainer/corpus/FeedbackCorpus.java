package dev.sift.trainer.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.schemas.PairRequest;
import dev.sift.schemas.RecordDecodingException;
import dev.sift.schemas.RequestCodec;
import dev.sift.schemas.TextRequest;
import dev.sift.trainer.data.Example;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Turns the feedback the job's users gave back into training data: reads the feedback topic and the
 * requests topic, each from its beginning to the end it had when reading began, and pairs every
 * request with the label its feedback gave.
 *
 * <p>Feedback is the job's JSON {@code {"id", "model", "label"}}; only that of the model asked for
 * counts, and per id the last feedback wins (a moderator overruling a user): the latest by Kafka
 * timestamp, and within a partition, of equal timestamps, the later record. A request is taken if
 * it names the model or names none (the job's defaults may have sent it there); requests in Avro or
 * JSON, text or pair, are decoded as the job decodes them. Unreadable records of either topic are
 * skipped and counted.
 *
 * <pre>{@code
 * FeedbackCorpus.Joined joined =
 *         FeedbackCorpus.read(kafka, "sift.requests", "sift.feedback", "spam", Duration.ofMinutes(1));
 * JsonLines.write(out, joined.examples());
 * }</pre>
 */
public final class FeedbackCorpus {

    private static final ObjectMapper JSON = new ObjectMapper();

    private FeedbackCorpus() {}

    /**
     * What reading found.
     *
     * @param examples one per id with feedback and its request, in the order the feedback came
     * @param feedback feedback records for the model
     * @param joined ids whose request was found, written as examples
     * @param withoutRequest ids whose feedback found no request for the model
     * @param unreadableFeedback feedback records that were not the feedback JSON
     * @param unreadableRequests request records that did not decode
     */
    public record Joined(
            List<Example> examples,
            long feedback,
            long joined,
            long withoutRequest,
            long unreadableFeedback,
            long unreadableRequests) {}

    /** The label kept for one id, and when it was given. */
    private record Label(String label, long timestamp) {}

    /**
     * Reads both topics to their present ends and joins them.
     *
     * @param kafka Kafka client properties, {@code bootstrap.servers} included
     * @param timeout how long reading each topic may take before giving up
     */
    public static Joined read(
            Properties kafka,
            String requestsTopic,
            String feedbackTopic,
            String model,
            Duration timeout) {
        Map<String, Label> labels = new LinkedHashMap<>();
        long[] counts = new long[3]; // feedback, unreadable feedback, unreadable requests
        readToEnd(
                kafka,
                feedbackTopic,
                timeout,
                record -> {
                    JsonNode node = feedbackJson(record.value());
                    if (node == null) {
                        counts[1]++;
                        return;
                    }
                    if (!model.equals(node.get("model").textValue())) {
                        return;
                    }
                    counts[0]++;
                    Label label = new Label(node.get("label").textValue(), record.timestamp());
                    labels.merge(
                            node.get("id").textValue(),
                            label,
                            (kept, later) -> later.timestamp() >= kept.timestamp() ? later : kept);
                });
        Map<String, Example> requests = new HashMap<>();
        RequestCodec codec = new RequestCodec();
        readToEnd(
                kafka,
                requestsTopic,
                timeout,
                record -> {
                    SpecificRecord request;
                    try {
                        request = codec.decode(record.value());
                    } catch (RecordDecodingException e) {
                        counts[2]++;
                        return;
                    }
                    String id;
                    List<String> models;
                    String text;
                    String textB;
                    if (request instanceof TextRequest t) {
                        id = t.getId();
                        models = t.getModels();
                        text = t.getText();
                        textB = null;
                    } else {
                        PairRequest p = (PairRequest) request;
                        id = p.getId();
                        models = p.getModels();
                        text = p.getTextA();
                        textB = p.getTextB();
                    }
                    Label label = labels.get(id);
                    if (label != null
                            && (models == null || models.isEmpty() || models.contains(model))) {
                        // A request sent again replaces the earlier copy, as its answer did.
                        requests.put(id, new Example(text, textB, label.label(), Map.of("id", id)));
                    }
                });
        List<Example> examples = new ArrayList<>();
        for (String id : labels.keySet()) {
            Example example = requests.get(id);
            if (example != null) {
                examples.add(example);
            }
        }
        return new Joined(
                examples,
                counts[0],
                examples.size(),
                labels.size() - examples.size(),
                counts[1],
                counts[2]);
    }

    /** The feedback object in {@code value}, or null where it is not one. */
    private static JsonNode feedbackJson(byte[] value) {
        if (value == null) {
            return null;
        }
        JsonNode node;
        try {
            node = JSON.readTree(value);
        } catch (IOException e) {
            return null;
        }
        if (node == null || !node.isObject()) {
            return null;
        }
        for (String field : List.of("id", "model", "label")) {
            JsonNode text = node.get(field);
            if (text == null || !text.isTextual() || text.textValue().isEmpty()) {
                return null;
            }
        }
        return node;
    }

    /**
     * Hands every record of {@code topic}, up to the end offsets it had when this began, to {@code
     * each}, partition by partition in offset order.
     */
    private static void readToEnd(
            Properties kafka,
            String topic,
            Duration timeout,
            Consumer<ConsumerRecord<byte[], byte[]>> each) {
        Properties config = new Properties();
        config.putAll(kafka);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "sift-trainer-feedback-" + UUID.randomUUID());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
            if (infos == null || infos.isEmpty()) {
                throw new IllegalArgumentException(
                        "Topic " + topic + " does not exist on " + kafka.get("bootstrap.servers"));
            }
            List<TopicPartition> partitions =
                    infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends =
                    new HashMap<>(consumer.endOffsets(partitions, timeout));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!reached(consumer, ends)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "Could not read " + topic + " to its end within " + timeout);
                }
                for (ConsumerRecord<byte[], byte[]> record :
                        consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition partition =
                            new TopicPartition(record.topic(), record.partition());
                    if (record.offset() < ends.getOrDefault(partition, 0L)) {
                        each.accept(record);
                    }
                }
            }
        }
    }

    /** Whether every partition's position is at its end offset; done ones stop being fetched. */
    private static boolean reached(
            KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> ends) {
        ends.entrySet().removeIf(end -> consumer.position(end.getKey()) >= end.getValue());
        consumer.pause(consumer.assignment().stream().filter(p -> !ends.containsKey(p)).toList());
        return ends.isEmpty();
    }
}
