package dev.sift.trainer.publish;

import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.schemas.AnnouncementSignatures;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.schemas.RecordCodec;
import dev.sift.schemas.RecordDecodingException;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.time.Instant;
import java.util.Optional;
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
 * signed with Ed25519, and records each one that changes the serving version in the registry, where
 * a job started without state reads what to serve. Trials (a shadow, a canary, and their ends) are
 * sent only: the registry keeps one announcement per model, the serving version's, so a job started
 * afresh serves it without trials, while a running or restored job keeps its trials in state.
 *
 * <p>A job refuses an announcement that is not newer than the last one it accepted for the model,
 * so announcement times of one model must grow: each is made at least a millisecond after the one
 * the registry recorded, whatever this machine's clock says.
 */
public final class Announcer {

    private static final RecordCodec<ModelAnnouncement> CODEC =
            RecordCodec.of(ModelAnnouncement.class);

    private Announcer() {}

    public static ModelAnnouncement announcement(
            ModelRegistry registry, ModelBundle bundle, ModelAction action, PrivateKey signingKey)
            throws GeneralSecurityException, IOException {
        return announcement(registry, bundle, action, signingKey, null);
    }

    /**
     * An announcement of {@code bundle}, whose {@code bundleUri} names the version in the registry
     * as the jobs read it: {@code <jobsRegistry>/<name>/<version>}, or the local folder when {@code
     * jobsRegistry} is null. A job refuses an announcement that names a folder outside its own
     * registry, so a registry written here and copied to, say, {@code s3://models/registry} is
     * announced with that URI.
     */
    public static ModelAnnouncement announcement(
            ModelRegistry registry,
            ModelBundle bundle,
            ModelAction action,
            PrivateKey signingKey,
            URI jobsRegistry)
            throws GeneralSecurityException, IOException {
        return announcement(registry, bundle, action, null, signingKey, jobsRegistry);
    }

    /**
     * As above, with the share of requests a {@link ModelAction#CANARY} answers, in percent; null
     * for any other action.
     */
    public static ModelAnnouncement announcement(
            ModelRegistry registry,
            ModelBundle bundle,
            ModelAction action,
            Double canaryPercent,
            PrivateKey signingKey,
            URI jobsRegistry)
            throws GeneralSecurityException, IOException {
        if ((action == ModelAction.CANARY) != (canaryPercent != null)) {
            throw new IllegalArgumentException(
                    action == ModelAction.CANARY
                            ? "A canary needs the share of requests it answers"
                            : action + " takes no canary share");
        }
        if (canaryPercent != null && !(canaryPercent > 0 && canaryPercent <= 100)) {
            throw new IllegalArgumentException(
                    "A canary's share must be above 0 and at most 100 percent, not "
                            + canaryPercent);
        }
        Instant at = Instant.now();
        Optional<byte[]> recorded = registry.recordedAnnouncement(bundle.name());
        if (recorded.isPresent()) {
            Instant last;
            try {
                last = CODEC.decode(recorded.get()).getAnnouncedAt();
            } catch (RecordDecodingException e) {
                throw new IOException(
                        "The announcement recorded for "
                                + bundle.name()
                                + " in "
                                + registry.root()
                                + " is unreadable: "
                                + e.getMessage(),
                        e);
            }
            if (!at.isAfter(last)) {
                at = last.plusMillis(1);
            }
        }
        ModelAnnouncement announcement =
                ModelAnnouncement.newBuilder()
                        .setName(bundle.name())
                        .setVersion(bundle.version())
                        .setAction(action)
                        .setBundleUri(bundleUri(bundle, jobsRegistry))
                        .setManifestSha256(bundle.manifestSha256())
                        .setCanaryPercent(canaryPercent)
                        .setAnnouncedAt(at)
                        .build();
        return signingKey == null
                ? announcement
                : AnnouncementSignatures.sign(announcement, signingKey);
    }

    private static String bundleUri(ModelBundle bundle, URI jobsRegistry) {
        if (jobsRegistry == null) {
            return bundle.dir().toAbsolutePath().toUri().toString();
        }
        String root = jobsRegistry.toString();
        while (root.endsWith("/")) {
            root = root.substring(0, root.length() - 1);
        }
        return root + "/" + bundle.name() + "/" + bundle.version();
    }

    /**
     * Records {@code announcement} in the registry as the one a fresh job obeys, without telling
     * running jobs: for a first version, before any job runs.
     */
    public static void record(ModelRegistry registry, ModelAnnouncement announcement)
            throws IOException {
        if (isTrial(announcement.getAction())) {
            throw new IllegalArgumentException(
                    announcement.getAction()
                            + " is a trial's announcement: the registry records only what"
                            + " serves, so a trial is sent to running jobs, never recorded");
        }
        registry.recordAnnouncement(announcement.getName(), CODEC.encode(announcement));
    }

    /**
     * Records {@code announcement} in the registry for jobs that start later (unless it is a
     * trial's, see the class comment), then sends it to running jobs and waits for the broker's
     * acknowledgement. In this order a job that starts in between cannot miss it: it either reads
     * the record, or (reading its models topic from before it was built) the message. Should the
     * send fail, the registry already names the version: a job started later serves it, and
     * announcing again tells the running ones.
     */
    public static RecordMetadata announce(
            ModelRegistry registry,
            ModelAnnouncement announcement,
            String topic,
            Properties kafkaConfig)
            throws InterruptedException, ExecutionException, TimeoutException, IOException {
        if (!isTrial(announcement.getAction())) {
            record(registry, announcement);
        }
        return send(announcement, topic, kafkaConfig);
    }

    /** Whether {@code action} begins or ends a trial rather than changing the serving version. */
    public static boolean isTrial(ModelAction action) {
        return switch (action) {
            case SHADOW, CANARY, STOP_SHADOW, STOP_CANARY -> true;
            default -> false;
        };
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
                                    CODEC.encode(announcement)))
                    .get(60, TimeUnit.SECONDS);
        }
    }
}
