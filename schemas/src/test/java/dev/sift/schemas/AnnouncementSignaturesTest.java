package dev.sift.schemas;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AnnouncementSignaturesTest {

    private final ModelAnnouncement announcement =
            ModelAnnouncement.newBuilder()
                    .setName("spam")
                    .setVersion(3)
                    .setAction(ModelAction.ACTIVATE)
                    .setBundleUri("/registry/spam/3")
                    .setManifestSha256("ab".repeat(32))
                    .setAnnouncedAt(Instant.EPOCH)
                    .build();

    @Test
    void aSignedAnnouncementVerifiesWithTheKeyPairFromPemFiles(@TempDir Path dir) throws Exception {
        var keys = AnnouncementSignatures.generateKeyPair();
        AnnouncementSignatures.writePem(
                dir.resolve("key.pem"), "PRIVATE KEY", keys.getPrivate().getEncoded());
        AnnouncementSignatures.writePem(
                dir.resolve("key.pub"), "PUBLIC KEY", keys.getPublic().getEncoded());

        ModelAnnouncement signed =
                AnnouncementSignatures.sign(
                        announcement,
                        AnnouncementSignatures.readPrivateKey(dir.resolve("key.pem")));

        assertThat(
                        AnnouncementSignatures.verify(
                                signed,
                                AnnouncementSignatures.readPublicKey(dir.resolve("key.pub"))))
                .isTrue();
    }

    @Test
    void anyChangedFieldOrOtherKeyFailsVerification() throws Exception {
        var keys = AnnouncementSignatures.generateKeyPair();
        ModelAnnouncement signed = AnnouncementSignatures.sign(announcement, keys.getPrivate());

        ModelAnnouncement otherVersion = ModelAnnouncement.newBuilder(signed).setVersion(4).build();
        ModelAnnouncement otherUri =
                ModelAnnouncement.newBuilder(signed).setBundleUri("/evil/spam/3").build();
        ModelAnnouncement otherTime =
                ModelAnnouncement.newBuilder(signed)
                        .setAnnouncedAt(Instant.EPOCH.plusMillis(1))
                        .build();

        assertThat(AnnouncementSignatures.verify(otherVersion, keys.getPublic())).isFalse();
        assertThat(AnnouncementSignatures.verify(otherUri, keys.getPublic())).isFalse();
        assertThat(AnnouncementSignatures.verify(otherTime, keys.getPublic()))
                .as("the time orders announcements, so it is signed")
                .isFalse();
        assertThat(
                        AnnouncementSignatures.verify(
                                signed, AnnouncementSignatures.generateKeyPair().getPublic()))
                .isFalse();
        assertThat(AnnouncementSignatures.verify(announcement, keys.getPublic()))
                .as("unsigned")
                .isFalse();
    }

    @Test
    void aCanarysShareIsSignedAndAnUnsetShareLeavesTheMessageAsBefore() throws Exception {
        var keys = AnnouncementSignatures.generateKeyPair();
        ModelAnnouncement canary =
                AnnouncementSignatures.sign(
                        ModelAnnouncement.newBuilder(announcement)
                                .setAction(ModelAction.CANARY)
                                .setCanaryPercent(5.0)
                                .build(),
                        keys.getPrivate());

        assertThat(AnnouncementSignatures.verify(canary, keys.getPublic())).isTrue();
        assertThat(
                        AnnouncementSignatures.verify(
                                ModelAnnouncement.newBuilder(canary)
                                        .setCanaryPercent(100.0)
                                        .build(),
                                keys.getPublic()))
                .as("a captured 5%% canary must not be replayed as a 100%% one")
                .isFalse();
        assertThat(new String(AnnouncementSignatures.message(announcement), UTF_8))
                .as("messages without a share are the ones signed before the field existed")
                .endsWith("\n" + announcement.getAnnouncedAt().toEpochMilli());
    }
}
