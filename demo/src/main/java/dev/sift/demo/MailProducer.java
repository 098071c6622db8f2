package dev.sift.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sift.trainer.data.Example;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Streams real mails to the request topic as JSON requests, at a steady rate, in a thread. */
final class MailProducer {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Properties client;
    private final String topic;
    private final List<Example> mails;
    private final long pauseMillis;
    private final List<String> sent = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, String> truths = new ConcurrentHashMap<>();
    private volatile boolean running = true;
    private Thread thread;

    MailProducer(Properties client, String topic, List<Example> mails, double ratePerSecond) {
        this.client = client;
        this.topic = topic;
        this.mails = mails;
        this.pauseMillis = Math.round(1000 / ratePerSecond);
    }

    void start() {
        thread = new Thread(this::run, "demo-producer");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(client, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; running; i++) {
                Example mail = mails.get(i % mails.size());
                String id = "mail-" + i;
                ObjectNode request = JSON.createObjectNode();
                request.put("id", id);
                request.put("text", mail.text());
                request.putObject("attributes")
                        .put("group", mail.attributes().get("group"))
                        .put("truth", mail.label());
                producer.send(
                        new ProducerRecord<>(
                                topic,
                                id.getBytes(StandardCharsets.UTF_8),
                                JSON.writeValueAsBytes(request)));
                sent.add(id);
                truths.put(id, mail.label());
                Thread.sleep(pauseMillis);
            }
            producer.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            System.err.println("producer stopped: " + e);
        }
    }

    void stop() {
        running = false;
        if (thread != null) {
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The corpus label of each mail sent so far, by request id. */
    Map<String, String> truths() {
        return Map.copyOf(truths);
    }

    List<String> sentIds() {
        synchronized (sent) {
            return List.copyOf(sent);
        }
    }
}
