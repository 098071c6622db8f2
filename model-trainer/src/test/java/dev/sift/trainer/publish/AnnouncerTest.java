package dev.sift.trainer.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.model.bundle.Pooling;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelDraft;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.schemas.AnnouncementSignatures;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.schemas.RecordCodec;
import dev.sift.testing.kafka.KafkaTestCluster;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An announcement travels through a real Kafka broker and comes back intact and verifiable. */
class AnnouncerTest {

    @Test
    void roundTripsASignedAnnouncementThroughKafka(@TempDir Path dir) throws Exception {
        ModelRegistry registry = ModelRegistry.at(dir);
        String hash = TinyBertEncoder.buildInto(registry.encodersDir()).contentHash();
        ModelBundle bundle = registry.publish(draft(hash));
        var keys = AnnouncementSignatures.generateKeyPair();
        KafkaTestCluster kafka = KafkaTestCluster.shared();
        String topic = kafka.newTopic("sift-models", 1);

        ModelAnnouncement sent =
                Announcer.announcement(registry, bundle, ModelAction.ACTIVATE, keys.getPrivate());
        Announcer.announce(registry, sent, topic, kafka.clientProperties());

        var records = kafka.readCommitted(topic, 1, Duration.ofSeconds(30));
        assertThat(records).hasSize(1);
        assertThat(new String(records.get(0).key(), StandardCharsets.UTF_8)).isEqualTo("spam");
        ModelAnnouncement received =
                RecordCodec.of(ModelAnnouncement.class).decode(records.get(0).value());
        assertThat(received).isEqualTo(sent);
        assertThat(received.getManifestSha256()).isEqualTo(bundle.manifestSha256());
        assertThat(Path.of(java.net.URI.create(received.getBundleUri())))
                .isEqualTo(bundle.dir().toAbsolutePath());
        assertThat(AnnouncementSignatures.verify(received, keys.getPublic())).isTrue();
        assertThat(
                        RecordCodec.of(ModelAnnouncement.class)
                                .decode(registry.recordedAnnouncement("spam").orElseThrow()))
                .as("recorded for jobs that start later")
                .isEqualTo(sent);
    }

    @Test
    void sendsATrialToTheJobsWithoutRecordingItOverTheServingVersion(@TempDir Path dir)
            throws Exception {
        ModelRegistry registry = ModelRegistry.at(dir);
        String hash = TinyBertEncoder.buildInto(registry.encodersDir()).contentHash();
        ModelBundle bundle = registry.publish(draft(hash));
        ModelAnnouncement serving =
                Announcer.announcement(registry, bundle, ModelAction.ACTIVATE, null);
        Announcer.record(registry, serving);
        KafkaTestCluster kafka = KafkaTestCluster.shared();
        String topic = kafka.newTopic("sift-models", 1);

        ModelAnnouncement canary =
                Announcer.announcement(registry, bundle, ModelAction.CANARY, 5.0, null, null);
        Announcer.announce(registry, canary, topic, kafka.clientProperties());

        var records = kafka.readCommitted(topic, 1, Duration.ofSeconds(30));
        ModelAnnouncement received =
                RecordCodec.of(ModelAnnouncement.class).decode(records.get(0).value());
        assertThat(received.getCanaryPercent()).isEqualTo(5.0);
        assertThat(
                        RecordCodec.of(ModelAnnouncement.class)
                                .decode(registry.recordedAnnouncement("spam").orElseThrow()))
                .as("a job started afresh serves the recorded version")
                .isEqualTo(serving);
        assertThat(canary.getAnnouncedAt()).isAfter(serving.getAnnouncedAt());
        assertThatThrownBy(() -> Announcer.record(registry, canary))
                .hasMessageContaining("never recorded");
        assertThatThrownBy(
                        () ->
                                Announcer.announcement(
                                        registry, bundle, ModelAction.CANARY, 0.0, null, null))
                .hasMessageContaining("above 0 and at most 100");
    }

    @Test
    void recordsInTheRegistryBeforeItSends(@TempDir Path dir) throws Exception {
        ModelRegistry registry = ModelRegistry.at(dir);
        String hash = TinyBertEncoder.buildInto(registry.encodersDir()).contentHash();
        ModelBundle bundle = registry.publish(draft(hash));
        ModelAnnouncement announcement =
                Announcer.announcement(registry, bundle, ModelAction.ACTIVATE, null);
        Properties noBroker = new Properties();
        try (ServerSocket closed = new ServerSocket(0)) {
            noBroker.put("bootstrap.servers", "127.0.0.1:" + closed.getLocalPort());
        }
        noBroker.put("max.block.ms", "1000");

        assertThatThrownBy(() -> Announcer.announce(registry, announcement, "models", noBroker))
                .as("nothing listens")
                .isNotNull();

        assertThat(registry.recordedAnnouncement("spam"))
                .as("a job starting meanwhile reads it from the registry")
                .hasValueSatisfying(
                        bytes ->
                                assertThat(bytes)
                                        .isEqualTo(
                                                RecordCodec.of(ModelAnnouncement.class)
                                                        .encode(announcement)));
    }

    @Test
    void announcementTimesOfOneModelGrowEvenWithinOneMillisecond(@TempDir Path dir)
            throws Exception {
        ModelRegistry registry = ModelRegistry.at(dir);
        String hash = TinyBertEncoder.buildInto(registry.encodersDir()).contentHash();
        ModelBundle bundle = registry.publish(draft(hash));
        ModelAnnouncement future =
                ModelAnnouncement.newBuilder(
                                Announcer.announcement(
                                        registry, bundle, ModelAction.ACTIVATE, null))
                        .setAnnouncedAt(java.time.Instant.now().plusSeconds(3600))
                        .build();
        Announcer.record(registry, future); // say, from a machine whose clock runs ahead

        ModelAnnouncement next = Announcer.announcement(registry, bundle, ModelAction.RETIRE, null);

        assertThat(next.getAnnouncedAt()).isEqualTo(future.getAnnouncedAt().plusMillis(1));
    }

    @Test
    void namesTheVersionInTheRegistryTheJobsRead(@TempDir Path dir) throws Exception {
        ModelRegistry registry = ModelRegistry.at(dir);
        String hash = TinyBertEncoder.buildInto(registry.encodersDir()).contentHash();
        ModelBundle bundle = registry.publish(draft(hash));

        ModelAnnouncement announcement =
                Announcer.announcement(
                        registry,
                        bundle,
                        ModelAction.ACTIVATE,
                        null,
                        java.net.URI.create("s3://models/registry/"));

        assertThat(announcement.getBundleUri()).isEqualTo("s3://models/registry/spam/1");
    }

    private static ModelDraft draft(String encoderHash) {
        return ModelDraft.builder("spam", encoderHash)
                .pooling(Pooling.CLS)
                .maxSeqLen(64)
                .head(
                        new ClassificationHead(
                                new float[TinyBertEncoder.HIDDEN_SIZE * 2],
                                new float[2],
                                List.of("ham", "spam")))
                .build();
    }
}
