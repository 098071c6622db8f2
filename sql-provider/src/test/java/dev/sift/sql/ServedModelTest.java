package dev.sift.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.model.bundle.Pooling;
import dev.sift.model.registry.ModelBundle;
import dev.sift.schemas.AnnouncementSignatures;
import dev.sift.schemas.ModelAction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.Base64;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What ML_PREDICT serves: by default the version the registry recorded as announced, checked with
 * the public key, as the streaming job serves it; not the newest published one.
 */
class ServedModelTest {

    @TempDir Path registryDir;
    @TempDir Path keyDir;
    private TinyModels models;
    private KeyPair trainer;
    private ModelBundle v1;
    private ModelBundle v2;
    private ModelBundle v3;

    @BeforeEach
    void publishThreeVersions() throws Exception {
        models = new TinyModels(registryDir);
        trainer = AnnouncementSignatures.generateKeyPair();
        v1 = models.publish("spam", 1, Pooling.CLS);
        v2 = models.publish("spam", 2, Pooling.CLS);
        v3 = models.publish("spam", 3, Pooling.CLS); // newest, never announced
    }

    @Test
    void servesTheAnnouncedVersionNotTheNewestAndFollowsARollBack() throws Exception {
        models.announce(v2, ModelAction.ACTIVATE, trainer.getPrivate());

        try (ServedModel served = start(settings("announced", true))) {
            assertThat(served.version()).isEqualTo(2);

            models.announce(v1, ModelAction.ROLL_BACK, trainer.getPrivate());
            assertThat(awaitVersion(served, 1)).as("rolled back").isEqualTo(1);
        }
        try (ServedModel latest = start(settings("latest", false))) {
            assertThat(latest.version()).as("'latest': the newest published").isEqualTo(3);
        }
    }

    @Test
    void refusesAnUnsignedOrForeignAnnouncementWhenAKeyIsGiven() throws Exception {
        models.announce(v3, ModelAction.ACTIVATE, null);
        assertThatThrownBy(() -> start(settings("announced", true)))
                .hasMessageContaining("is unsigned, and 'public-key' requires signatures");

        models.announce(
                v3, ModelAction.ACTIVATE, AnnouncementSignatures.generateKeyPair().getPrivate());
        assertThatThrownBy(() -> start(settings("announced", true)))
                .hasMessageContaining("does not verify with 'public-key'");
    }

    @Test
    void aForgedAnnouncementWhileServingLeavesTheVersionServing() throws Exception {
        models.announce(v1, ModelAction.ACTIVATE, trainer.getPrivate());
        try (ServedModel served = start(settings("announced", true))) {
            models.announce(v3, ModelAction.ACTIVATE, null); // unsigned: not obeyed

            Thread.sleep(500); // several refresh intervals
            assertThat(served.forNextBatch().version()).isEqualTo(1);
        }
    }

    @Test
    void aModelNeverAnnouncedOrRetiredDoesNotStart() throws Exception {
        assertThatThrownBy(() -> start(settings("announced", false)))
                .hasMessageContaining("was never announced in the registry")
                .hasMessageContaining("set 'version' to 'latest' or a number");

        models.announce(v2, ModelAction.RETIRE, null);
        assertThatThrownBy(() -> start(settings("announced", false)))
                .hasMessageContaining("was retired");
    }

    private ServedModel start(SiftModelSettings settings) throws Exception {
        ServedModel served = new ServedModel(settings, null);
        try {
            served.start();
            return served;
        } catch (Exception e) {
            served.close();
            throw e;
        }
    }

    private SiftModelSettings settings(String version, boolean withKey) throws Exception {
        SiftModelSettings.Builder builder =
                SiftModelSettings.builder()
                        .registry(registryDir.toString())
                        .model("spam")
                        .version(version)
                        .refreshInterval(Duration.ofMillis(50));
        if (withKey) {
            Path key = keyDir.resolve("announcements.pub");
            Files.writeString(
                    key,
                    "-----BEGIN PUBLIC KEY-----\n"
                            + Base64.getMimeEncoder()
                                    .encodeToString(trainer.getPublic().getEncoded())
                            + "\n-----END PUBLIC KEY-----\n");
            builder.publicKeyFile(key.toString());
        }
        return builder.build();
    }

    /** The version the next batch gets, once it is {@code wanted} or 30 s have passed. */
    private static long awaitVersion(ServedModel served, long wanted) throws Exception {
        LongSupplier next = () -> served.forNextBatch().version();
        long deadline = System.nanoTime() + 30_000_000_000L;
        long version = next.getAsLong();
        while (version != wanted && System.nanoTime() < deadline) {
            Thread.sleep(20);
            version = next.getAsLong();
        }
        return version;
    }
}
