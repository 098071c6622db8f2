package dev.sift.trainer.publish;

import dev.sift.model.registry.ModelBundle;
import dev.sift.schemas.AnnouncementSignatures;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.schemas.RecordCodec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.time.Instant;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends model announcements to the Kafka topic the streaming job reads, Avro single-object encoded
 * and keyed by model name (so one model's announcements stay in order on one partition), optionally
 * signed with Ed25519.
 */
public final class Announcer {

    private Announcer() {}

    public static ModelAnnouncement announcement(
            ModelBundle bundle, ModelAction action, PrivateKey signingKey)
            throws GeneralSecurityException {
        ModelAnnouncement announcement =
                ModelAnnouncement.newBuilder()
                        .setName(bundle.name())
                        .setVersion(bundle.version())
                        .setAction(action)
                        .setBundleUri(bundle.dir().toAbsolutePath().toUri().toString())
                        .setManifestSha256(bundle.manifestSha256())
                        .setAnnouncedAt(Instant.now())
                        .build();
        return signingKey == null
                ? announcement
                : AnnouncementSignatures.sign(announcement, signingKey);
    }

    /** Sends and waits for the broker's acknowledgement. */
    public static RecordMetadata send(
            ModelAnnouncement announcement, String topic, Properties kafkaConfig)
            throws InterruptedException, ExecutionException, TimeoutException {
        Properties config = new Properties();
        config.putAll(kafkaConfig);
        config.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
        config.putIfAbsent(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            return producer.send(
                            new ProducerRecord<>(
                                    topic,
                                    announcement.getName().getBytes(StandardCharsets.UTF_8),
                                    RecordCodec.of(ModelAnnouncement.class).encode(announcement)))
                    .get(60, TimeUnit.SECONDS);
        }
    }
}
