package dev.sift.serving.models;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sift.model.bundle.Digests;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.head.HeadFormat;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.schemas.AnnouncementSignatures;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.serving.classify.BatchClassifier;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.serving.testing.TestModels;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The control plane without Flink: a job with a public key serves spam v2 (v1 and v3 are also
 * published); every forged, replayed or stale announcement and every bad bundle is refused,
 * counted, and leaves v2 answering.
 */
class ModelManagerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path dir;
    @TempDir Path outside;
    private TestModels models;
    private KeyPair trainerKey;
    private ModelBundle v1;
    private ModelBundle v2;
    private ModelBundle v3;
    private Instant started;
    private final List<String> refusals = new ArrayList<>();
    private ModelManager manager;

    @BeforeEach
    void serveV2WithSignaturesRequired() throws Exception {
        models = new TestModels(dir);
        trainerKey = AnnouncementSignatures.generateKeyPair();
        v1 = models.publishUnannounced("spam", 1, Pooling.CLS);
        v2 = models.publishUnannounced("spam", 2, Pooling.CLS);
        v3 = models.publishUnannounced("spam", 3, Pooling.CLS);
        ModelAnnouncement activateV2 = signed(v2, ModelAction.ACTIVATE);
        started = activateV2.getAnnouncedAt();
        models.record(activateV2);
        manager = manager(Set.of());
        manager.start(recorded(Set.of()));
        assertThat(servingVersion()).isEqualTo(2);
    }

    @AfterEach
    void close() throws Exception {
        manager.close();
    }

    /** What would change the serving version if it were genuine, for each action. */
    private ModelAnnouncement genuine(ModelAction action) throws Exception {
        return switch (action) {
            case ACTIVATE -> signed(v3, ModelAction.ACTIVATE);
            case ROLL_BACK -> signed(v1, ModelAction.ROLL_BACK);
            case RETIRE -> signed(v2, ModelAction.RETIRE);
            default -> throw new IllegalArgumentException(action.toString());
        };
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = ModelAction.class,
            names = {"ACTIVATE", "ROLL_BACK", "RETIRE"})
    void aGenuineSignedAnnouncementOfEachActionIsObeyed(ModelAction action) throws Exception {
        assertThat(manager.onAnnouncement(genuine(action))).isPresent();
        awaitLoads();

        assertThat(manager.servingVersion("spam"))
                .isEqualTo(
                        switch (action) {
                            case ACTIVATE -> java.util.OptionalLong.of(3);
                            case ROLL_BACK -> java.util.OptionalLong.of(1);
                            default -> java.util.OptionalLong.empty();
                        });
        assertThat(refusals).isEmpty();
    }

    enum Attack {
        UNSIGNED,
        WRONG_KEY,
        FORGED_SIGNATURE,
        REPLAYED,
        STALE
    }

    static Stream<Arguments> attacks() {
        List<Arguments> cases = new ArrayList<>();
        for (ModelAction action :
                List.of(ModelAction.ACTIVATE, ModelAction.ROLL_BACK, ModelAction.RETIRE)) {
            for (Attack attack : Attack.values()) {
                cases.add(Arguments.of(action, attack));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("attacks")
    void refusesForgedReplayedAndStaleAnnouncementsOfEveryAction(ModelAction action, Attack attack)
            throws Exception {
        ModelAnnouncement genuine = genuine(action);
        ModelAnnouncement sent =
                switch (attack) {
                    case UNSIGNED -> withSignature(genuine, null);
                    case WRONG_KEY ->
                            AnnouncementSignatures.sign(
                                    withSignature(genuine, null),
                                    AnnouncementSignatures.generateKeyPair().getPrivate());
                    case FORGED_SIGNATURE -> {
                        byte[] signature = genuine.getSignature().array().clone();
                        signature[7] ^= 1;
                        yield withSignature(genuine, signature);
                    }
                    case REPLAYED -> {
                        // Captured when it was genuine and obeyed; superseded since.
                        assertThat(manager.onAnnouncement(genuine)).isPresent();
                        awaitLoads();
                        assertThat(manager.onAnnouncement(signed(v2, ModelAction.ROLL_BACK)))
                                .isPresent();
                        awaitLoads();
                        yield genuine;
                    }
                    case STALE ->
                            AnnouncementSignatures.sign(
                                    ModelAnnouncement.newBuilder(withSignature(genuine, null))
                                            .setAnnouncedAt(started.minusSeconds(60))
                                            .build(),
                                    trainerKey.getPrivate());
                };

        assertThat(manager.onAnnouncement(sent)).as("refused").isEmpty();
        awaitLoads();

        assertThat(refusals).as("counted").hasSize(1);
        assertThat(refusals.get(0))
                .contains(
                        switch (attack) {
                            case UNSIGNED -> "unsigned";
                            case WRONG_KEY, FORGED_SIGNATURE -> "does not verify";
                            case REPLAYED, STALE -> "not after the last accepted";
                        });
        assertServesV2();
    }

    enum BadBundle {
        CHANGED_FILE,
        TRUNCATED_FILE,
        EXTRA_FILE,
        PATH_OUTSIDE_THE_FOLDER,
        SYMLINK_OUT_OF_THE_REGISTRY,
        WRONG_SHAPES,
        WRONG_ENCODER
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(BadBundle.class)
    void refusesABadBundleEvenWhenItsAnnouncementIsSigned(BadBundle bad) throws Exception {
        Path head = v3.dir().resolve("head.bin");
        String manifestSha256 =
                switch (bad) {
                    case CHANGED_FILE -> {
                        byte[] bytes = Files.readAllBytes(head);
                        bytes[bytes.length / 2] ^= 1;
                        Files.write(head, bytes);
                        yield v3.manifestSha256();
                    }
                    case TRUNCATED_FILE -> {
                        byte[] bytes = Files.readAllBytes(head);
                        Files.write(head, java.util.Arrays.copyOf(bytes, bytes.length - 10));
                        yield v3.manifestSha256();
                    }
                    case EXTRA_FILE -> {
                        Files.writeString(v3.dir().resolve("notes.txt"), "unlisted");
                        yield v3.manifestSha256();
                    }
                    case PATH_OUTSIDE_THE_FOLDER -> {
                        Path secret = Files.writeString(outside.resolve("secret.bin"), "x");
                        String sha = Digests.sha256(secret);
                        yield editManifest(
                                m ->
                                        ((ObjectNode) m.get("files"))
                                                .put(
                                                        "../../../"
                                                                + outside.getFileName()
                                                                + "/secret.bin",
                                                        sha));
                    }
                    case SYMLINK_OUT_OF_THE_REGISTRY -> {
                        // Same bytes, so every hash matches: only the link itself is wrong.
                        Path copy = Files.copy(head, outside.resolve("head.bin"));
                        Files.delete(head);
                        Files.createSymbolicLink(head, copy);
                        yield v3.manifestSha256();
                    }
                    case WRONG_SHAPES -> {
                        HeadFormat.write(
                                new ClassificationHead(
                                        new float[(TinyBertEncoder.HIDDEN_SIZE + 1) * 2],
                                        new float[2],
                                        List.of("ham", "spam")),
                                head);
                        String sha = Digests.sha256(head);
                        yield editManifest(m -> ((ObjectNode) m.get("files")).put("head.bin", sha));
                    }
                    case WRONG_ENCODER ->
                            editManifest(
                                    m ->
                                            ((ObjectNode) m.get("encoder"))
                                                    .put("contentHash", "ab".repeat(32)));
                };
        ModelAnnouncement announcement =
                AnnouncementSignatures.sign(
                        ModelAnnouncement.newBuilder(
                                        TestModels.announcement(v3, ModelAction.ACTIVATE))
                                .setManifestSha256(manifestSha256)
                                .build(),
                        trainerKey.getPrivate());

        // Recorded, as on every subtask: only loading it is refused, here.
        assertThat(manager.onAnnouncement(announcement)).as("recorded").isPresent();
        awaitLoads();

        assertThat(manager.servingBehind("spam")).isTrue();
        assertThat(refusals).as("counted").hasSize(1);
        assertThat(refusals.get(0))
                .contains("v2 serves meanwhile")
                .contains(
                        switch (bad) {
                            case CHANGED_FILE, TRUNCATED_FILE -> "does not match its manifest";
                            case EXTRA_FILE -> "is not listed in the manifest";
                            case PATH_OUTSIDE_THE_FOLDER -> "a path outside the bundle";
                            case SYMLINK_OUT_OF_THE_REGISTRY -> "symbolic link out of the bundle";
                            case WRONG_SHAPES -> "reads vectors of size 33";
                            case WRONG_ENCODER -> "is not in the registry";
                        });
        assertServesV2();
    }

    @Test
    void aFreshStartServesNothingPublishedButNeverAnnounced() throws Exception {
        models.publishUnannounced("topic", 9, Pooling.CLS);

        try (ModelManager fresh = manager(Set.of())) {
            Map<String, AcceptedVersion> state = fresh.start(recorded(Set.of()));

            assertThat(fresh.serving().keySet()).containsExactly("spam");
            assertThat(state.keySet()).containsExactly("spam");
        }
    }

    @Test
    void aFreshStartObeysTheLastRecordedRollBackAndRetirement() throws Exception {
        models.record(signed(v1, ModelAction.ROLL_BACK));
        try (ModelManager fresh = manager(Set.of())) {
            fresh.start(recorded(Set.of()));
            assertThat(fresh.servingVersion("spam")).hasValue(1);
        }

        models.record(signed(v1, ModelAction.RETIRE));
        try (ModelManager fresh = manager(Set.of())) {
            Map<String, AcceptedVersion> state = fresh.start(recorded(Set.of()));
            assertThat(fresh.serving()).isEmpty();
            assertThat(state.get("spam").retired())
                    .as("remembered, so replays stay refused")
                    .isTrue();
        }
    }

    @Test
    void aVersionThatDoesNotLoadIsRetriedUntilItDoes() throws Exception {
        Path head = v3.dir().resolve("head.bin");
        byte[] genuine = Files.readAllBytes(head);
        byte[] changed = genuine.clone();
        changed[changed.length / 2] ^= 1;
        Files.write(head, changed);

        assertThat(manager.onAnnouncement(signed(v3, ModelAction.ACTIVATE))).isPresent();
        awaitLoads();
        assertServesV2();
        assertThat(manager.loading()).as("a retry waits").isTrue();

        Files.write(head, genuine);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (servingVersion() != 3) {
            assertThat(System.nanoTime()).as("the retry loads v3").isLessThan(deadline);
            Thread.sleep(50);
            manager.applyFinishedLoads();
        }
        assertThat(manager.servingBehind("spam")).isFalse();
        assertThat(manager.loading()).isFalse();
    }

    @Test
    void aRestoredRecordServesItsNewestEarlierVersionThatLoadsWhileItsOwnDoesNot()
            throws Exception {
        assertThat(manager.onAnnouncement(signed(v3, ModelAction.ACTIVATE))).isPresent();
        awaitLoads();
        Map<String, AcceptedVersion> state = manager.accepted();
        assertThat(state.get("spam").earlier())
                .extracting(AcceptedVersion.Earlier::version)
                .containsExactly(2L);
        Files.writeString(v3.dir().resolve("notes.txt"), "unlisted");

        try (ModelManager restored = manager(Set.of())) {
            restored.restore(state);

            assertThat(restored.servingVersion("spam")).hasValue(2);
            assertThat(restored.servingBehind("spam")).isTrue();
            assertThat(restored.accepted()).isEqualTo(state);
        }
    }

    @Test
    void theSameAnnouncementAgainIsIgnoredWithoutARefusal() throws Exception {
        ModelAnnouncement activateV3 = signed(v3, ModelAction.ACTIVATE);
        assertThat(manager.onAnnouncement(activateV3)).isPresent();

        assertThat(manager.onAnnouncement(activateV3)).isEmpty();
        assertThat(refusals).isEmpty();
    }

    @Test
    void retriesWaitTwiceAsLongEachTimeUpToFiveMinutes() {
        assertThat(ModelManager.retryDelay(0)).hasSeconds(1);
        assertThat(ModelManager.retryDelay(3)).hasSeconds(8);
        assertThat(ModelManager.retryDelay(40)).isEqualTo(ModelManager.LAST_RETRY);
    }

    @Test
    void aRestoredRetirementStillRefusesTheReplayOfAnOlderActivation() throws Exception {
        ModelAnnouncement activateV3 = signed(v3, ModelAction.ACTIVATE);
        ModelAnnouncement retire = signed(v3, ModelAction.RETIRE);
        try (ModelManager restored = manager(Set.of())) {
            restored.restore(
                    Map.of(
                            "spam",
                            AcceptedVersion.retired(3, retire.getAnnouncedAt().toEpochMilli())));

            assertThat(restored.onAnnouncement(activateV3)).isEmpty();
            assertThat(restored.serving()).isEmpty();
        }
    }

    @Test
    void servesOnlyTheModelsItIsLimitedTo() throws Exception {
        ModelBundle topic = models.publishUnannounced("topic", 9, Pooling.CLS);
        models.record(signed(topic, ModelAction.ACTIVATE));

        try (ModelManager limited = manager(Set.of("topic"))) {
            limited.start(recorded(Set.of("topic")));
            assertThat(limited.serving().keySet()).containsExactly("topic");
            assertThat(limited.onAnnouncement(signed(v3, ModelAction.ACTIVATE))).isEmpty();
            assertThat(limited.pendingLoads()).isZero();
        }
    }

    private List<byte[]> recorded(Set<String> served) throws Exception {
        return ModelManager.recordedAnnouncements(models.registry(), served);
    }

    private ModelManager manager(Set<String> served) {
        return new ModelManager(
                models.registry(),
                trainerKey.getPublic(),
                served,
                new ModelManager.Events() {
                    @Override
                    public void refused(String model, String reason) {
                        refusals.add(reason);
                    }

                    @Override
                    public void serving(String model) {}
                });
    }

    private ModelAnnouncement signed(ModelBundle bundle, ModelAction action) throws Exception {
        return AnnouncementSignatures.sign(
                TestModels.announcement(bundle, action), trainerKey.getPrivate());
    }

    private static ModelAnnouncement withSignature(ModelAnnouncement a, byte[] signature) {
        return ModelAnnouncement.newBuilder(a)
                .setSignature(signature == null ? null : ByteBuffer.wrap(signature))
                .build();
    }

    private interface ManifestEdit {
        void apply(ObjectNode manifest);
    }

    /** Rewrites v3's manifest and returns its new hash, which a signed announcement then names. */
    private String editManifest(ManifestEdit edit) throws Exception {
        Path file = v3.dir().resolve("manifest.json");
        ObjectNode manifest = (ObjectNode) JSON.readTree(file.toFile());
        edit.apply(manifest);
        JSON.writeValue(file.toFile(), manifest);
        return Digests.sha256(file);
    }

    private long servingVersion() {
        return manager.servingVersion("spam").orElse(-1);
    }

    private void awaitLoads() throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (manager.pendingLoads() > 0) {
            assertThat(System.nanoTime()).as("loads finish").isLessThan(deadline);
            Thread.sleep(10);
            manager.applyFinishedLoads();
        }
    }

    /** v2 still serves, and still answers. */
    private void assertServesV2() {
        assertThat(servingVersion()).isEqualTo(2);
        ClassifyRequest request = TestModels.text("r", "free cash now", "spam");
        BatchClassifier.Flush flush =
                new BatchClassifier(8, 1_000)
                        .classify(
                                List.of(request),
                                null,
                                manager.serving(),
                                List.of(),
                                Clock.systemUTC());
        assertThat(flush.outcomes().get(0).results())
                .singleElement()
                .extracting(ClassificationResult::getModelVersion)
                .isEqualTo(2L);
    }
}
