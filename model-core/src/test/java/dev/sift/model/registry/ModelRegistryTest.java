package dev.sift.model.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.model.bundle.BundleException;
import dev.sift.model.bundle.Digests;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.testing.TinyBertEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRegistryTest {

    @TempDir Path root;
    private ModelRegistry registry;
    private String encoderHash;

    @BeforeEach
    void installEncoder() throws Exception {
        registry = ModelRegistry.at(root);
        EncoderBundle encoder = TinyBertEncoder.buildInto(registry.encodersDir());
        encoderHash = encoder.contentHash();
    }

    @Test
    void versionsStartAtOneAndOnlyGrow() throws Exception {
        ModelBundle first = registry.publish(draft("spam", 0.1f));
        ModelBundle second = registry.publish(draft("spam", 0.2f));

        assertThat(first.version()).isEqualTo(1);
        assertThat(second.version()).isEqualTo(2);
        assertThat(registry.versions("spam")).containsExactly(1L, 2L);
        assertThat(registry.models()).containsExactly("spam");
        assertThat(registry.openLatest("spam").orElseThrow().head().bias(0)).isEqualTo(0.2f);
        assertThat(second.manifest().parentVersion()).isNull();
        assertThat(second.manifest().metrics()).containsEntry("accuracy", 0.9);
        assertThat(second.manifestSha256())
                .isEqualTo(Digests.sha256(second.dir().resolve("manifest.json")));
    }

    /** Repeated: the race it covers (two renames onto one version) does not happen every time. */
    @RepeatedTest(10)
    void concurrentPublishersGetDistinctVersions() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<ModelBundle>> futures = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                float bias = i;
                futures.add(
                        pool.submit(
                                (Callable<ModelBundle>)
                                        () -> registry.publish(draft("topic", bias))));
            }
            List<Long> versions = new ArrayList<>();
            for (Future<ModelBundle> future : futures) {
                versions.add(future.get().version());
            }
            assertThat(versions).containsExactlyInAnyOrder(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
        } finally {
            pool.shutdownNow();
        }
        try (var left = Files.list(root.resolve("topic"))) {
            assertThat(left.map(p -> p.getFileName().toString()))
                    .as("no staging folder is left behind")
                    .allMatch(name -> name.matches("[1-8]"));
        }
    }

    @Test
    void refusesABundleWithOneByteChangedNamingTheFile() throws Exception {
        ModelBundle published = registry.publish(draft("spam", 0.1f));
        Path head = published.dir().resolve("head.bin");
        byte[] bytes = Files.readAllBytes(head);
        bytes[40] ^= 0x01;
        Files.write(head, bytes);

        assertThatThrownBy(() -> registry.open("spam", 1))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("head.bin does not match its manifest");
    }

    /**
     * The encoder's content hash covers its files, not its manifest: a changed output tensor name
     * would verify by content. The model's manifest pins the encoder's, so it is refused.
     */
    @Test
    void refusesAVersionWhoseEncoderManifestChangedAfterPublishing() throws Exception {
        registry.publish(draft("spam", 0.1f));
        Path encoderManifest = registry.encodersDir().resolve(encoderHash).resolve("manifest.json");
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var manifest =
                (com.fasterxml.jackson.databind.node.ObjectNode)
                        json.readTree(encoderManifest.toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) manifest.get("tensors"))
                .put("sequenceOutput", "another/tensor:0");
        json.writeValue(encoderManifest.toFile(), manifest);

        assertThat(registry.encoder(encoderHash).contentHash())
                .as("the content hash does not see it")
                .isEqualTo(encoderHash);
        assertThatThrownBy(() -> registry.open("spam", 1))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("manifest is not the one this model was published with");
    }

    @Test
    void aManifestWrittenBeforeTheEncoderPinStillOpens() throws Exception {
        ModelBundle published = registry.publish(draft("spam", 0.1f));
        assertThat(published.manifest().encoder().manifestSha256()).isNotNull();
        Path file = published.dir().resolve("manifest.json");
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var manifest =
                (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(file.toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) manifest.get("encoder"))
                .remove("manifestSha256");
        json.writeValue(file.toFile(), manifest);

        assertThat(registry.open("spam", 1).manifest().encoder().manifestSha256()).isNull();
    }

    @Test
    void refusesAnUnlistedFile() throws Exception {
        ModelBundle published = registry.publish(draft("spam", 0.1f));
        Files.writeString(published.dir().resolve("extra.bin"), "smuggled");

        assertThatThrownBy(() -> registry.open("spam", 1))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("extra.bin is not listed in the manifest");
    }

    @Test
    void refusesAManifestWhoseLabelsDoNotFitTheHead() throws Exception {
        ModelBundle published = registry.publish(draft("spam", 0.1f));
        Path manifest = published.dir().resolve("manifest.json");
        String edited =
                Files.readString(manifest)
                        .replace("\"spam\" ]", "\"spam\", \"phishing\" ]")
                        .replace("\"spam\"]", "\"spam\",\"phishing\"]");
        assertThat(edited).contains("phishing");
        Files.writeString(manifest, edited, StandardCharsets.UTF_8);

        assertThatThrownBy(() -> registry.open("spam", 1))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("head.bin: has 2 outputs but the manifest lists 3 labels");
    }

    @Test
    void refusesAManifestNotAnnounced() throws Exception {
        ModelBundle published = registry.publish(draft("spam", 0.1f));

        assertThatThrownBy(() -> published.requireManifestSha256("00".repeat(32)))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("was announced");
    }

    @Test
    void refusesAHeadThatDoesNotFitTheEncoder() {
        ClassificationHead wide =
                new ClassificationHead(new float[2 * 100], new float[2], List.of("a", "b"));
        ModelDraft draft =
                ModelDraft.builder("spam", encoderHash)
                        .pooling(Pooling.CLS)
                        .maxSeqLen(64)
                        .head(wide)
                        .build();

        assertThatThrownBy(() -> registry.publish(draft))
                .hasMessageContaining(
                        "reads vectors of size 100 but encoder tiny-bert-test produces 32");
    }

    @Test
    void refusesAnUnknownEncoderAndABadName() {
        ModelDraft unknown =
                ModelDraft.builder("spam", "ff".repeat(32))
                        .pooling(Pooling.CLS)
                        .maxSeqLen(64)
                        .head(head(0))
                        .build();
        assertThatThrownBy(() -> registry.publish(unknown))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("is not in the registry");

        assertThatThrownBy(() -> registry.publish(draft("Spam Filter", 0)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must be 1-64 characters of a-z, 0-9");
    }

    @Test
    void encoderBundlesAreVerifiedFileByFile() throws Exception {
        EncoderBundle encoder = registry.encoder(encoderHash);
        Files.writeString(encoder.tokenizerFile(), "{}");

        assertThatThrownBy(encoder::verify)
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("tokenizer.json does not match its manifest");
    }

    private ModelDraft draft(String name, float bias) {
        return ModelDraft.builder(name, encoderHash)
                .pooling(Pooling.CLS)
                .maxSeqLen(64)
                .head(head(bias))
                .metrics(Map.of("accuracy", 0.9))
                .trainingDataHash("abc")
                .training(Map.of("seed", "1"))
                .build();
    }

    private static ClassificationHead head(float bias) {
        float[] w = new float[TinyBertEncoder.HIDDEN_SIZE * 2];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i % 7) / 10f;
        }
        return new ClassificationHead(w, new float[] {bias, -bias}, List.of("ham", "spam"));
    }
}
