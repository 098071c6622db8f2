package dev.sift.model.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sift.model.bundle.Activation;
import dev.sift.model.bundle.BundleException;
import dev.sift.model.bundle.Digests;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.FineTunedTop;
import dev.sift.model.bundle.LayerShape;
import dev.sift.model.bundle.ModelManifest;
import dev.sift.model.bundle.NgramBlend;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.finetune.RandomTopWeights;
import dev.sift.model.finetune.TopFormat;
import dev.sift.model.finetune.TopSpec;
import dev.sift.model.finetune.TopWeights;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.ngram.NgramClassifier;
import dev.sift.model.ngram.NgramFormat;
import dev.sift.model.ngram.TestNgrams;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.model.tokenize.Truncation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Versions beyond a head on the head of each text (a fine-tuned top, a head-and-tail truncation):
 * published, reopened bit for bit, and refused when anything is off.
 */
class FineTunedBundleTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> LABELS = List.of("ham", "spam");

    @TempDir Path root;
    private ModelRegistry registry;
    private EncoderManifest encoder;
    private int encoderLayers;

    @BeforeEach
    void installEncoder() throws Exception {
        registry = ModelRegistry.at(root);
        encoder = TinyBertEncoder.buildInto(registry.encodersDir()).manifest();
        encoderLayers = encoder.transformerLayers();
    }

    @Test
    void aFineTunedVersionRoundTripsBitForBit() throws Exception {
        TopWeights top = RandomTopWeights.of(topSpec(2, Pooling.POOLER), 3);

        ModelBundle published = registry.publish(draft(top));
        ModelBundle reopened = registry.open("spam", published.version());

        assertThat(reopened.isFineTuned()).isTrue();
        ModelManifest manifest = reopened.manifest();
        assertThat(manifest.formatVersion()).isEqualTo(ModelManifest.FINE_TUNED_FORMAT_VERSION);
        assertThat(manifest.fineTune())
                .isEqualTo(
                        new FineTunedTop("top.bin", encoderLayers - 2, 2, encoder.contentHash()));
        assertThat(manifest.headFile()).isNull();
        assertThat(manifest.pooling()).isEqualTo(Pooling.POOLER);
        assertThat(manifest.labels()).isEqualTo(LABELS);
        assertThat(manifest.files())
                .containsOnlyKeys("top.bin")
                .containsEntry("top.bin", Digests.sha256(reopened.dir().resolve("top.bin")));
        assertThat(reopened.topWeights().spec()).isEqualTo(top.spec());
        for (String name : top.spec().parameters().keySet()) {
            assertThat(bits(reopened.topWeights().get(name)))
                    .as(name)
                    .isEqualTo(bits(top.get(name)));
        }
        assertThatThrownBy(reopened::head)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is fine-tuned");
    }

    @Test
    void aHeadOnlyManifestKeepsItsFormat() throws Exception {
        ModelBundle published = registry.publish(headDraft());

        var json = JSON.readTree(published.dir().resolve("manifest.json").toFile());
        List<String> fields = new ArrayList<>();
        json.fieldNames().forEachRemaining(fields::add);
        // the fields and order of every manifest written before fine-tuning existed
        assertThat(fields)
                .containsExactly(
                        "kind",
                        "formatVersion",
                        "name",
                        "version",
                        "encoder",
                        "pooling",
                        "maxSeqLen",
                        "labels",
                        "headFile",
                        "files",
                        "metrics",
                        "parentVersion",
                        "trainingDataHash",
                        "training",
                        "createdAt");
        assertThat(json.get("formatVersion").asInt()).isEqualTo(1);
        assertThat(published.isFineTuned()).isFalse();
        assertThatThrownBy(published::topWeights).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void refusesATopTrainedOnAnotherEncodersTrunk() throws Exception {
        publishFineTuned(1);
        editManifest(
                m -> ((ObjectNode) m.get("fineTune")).put("trunkEncoderHash", "ab".repeat(32)));

        assertRefused(
                "the top reads the trunk of encoder "
                        + "ab".repeat(32)
                        + " but this model's encoder is "
                        + encoder.contentHash());
    }

    @Test
    void refusesASplitThatDoesNotFitTheEncoder() throws Exception {
        publishFineTuned(1);
        editManifest(m -> ((ObjectNode) m.get("fineTune")).put("trunkLayers", encoderLayers));

        assertRefused(
                "trunk of "
                        + encoderLayers
                        + " layers and top of 1 do not split the encoder's "
                        + encoderLayers
                        + " layers");

        TopSpec shortOfTheTop = new TopSpec(shape(), 1, encoderLayers - 2, Pooling.CLS, 2);
        assertThatThrownBy(() -> registry.publish(draft(RandomTopWeights.of(shortOfTheTop, 1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("a top must end at the encoder's last layer");
    }

    @Test
    void refusesAManifestWhoseSplitDisagreesWithTheTop() throws Exception {
        publishFineTuned(2);
        editManifest(
                m ->
                        ((ObjectNode) m.get("fineTune"))
                                .put("trunkLayers", encoderLayers - 1)
                                .put("topLayers", 1));

        assertRefused("but the manifest splits at " + (encoderLayers - 1) + " with 1 top layers");
    }

    @Test
    void refusesShapesThatDoNotFitTheEncoderOrTheLabels() throws Exception {
        TopSpec narrow =
                new TopSpec(new LayerShape(16, 2, 24), encoderLayers - 1, 1, Pooling.CLS, 2);
        assertThatThrownBy(() -> registry.publish(draft(RandomTopWeights.of(narrow, 1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("The top's layers are size 16 but encoder tiny-bert-test");

        // Written behind the registry's back, with hashes that check out: the shape still does not.
        ModelBundle published = publishFineTuned(1);
        TopFormat.write(RandomTopWeights.of(narrow, 1), published.dir().resolve("top.bin"));
        rehash(published.dir());
        assertRefused(
                "top.bin has layers shaped width 16, 2 heads, feed-forward 24 but the encoder's are"
                        + " width 32");

        LayerShape moreHeads =
                new LayerShape(
                        shape().hiddenSize(), shape().heads() * 2, shape().intermediateSize());
        TopSpec wrongHeads = new TopSpec(moreHeads, encoderLayers - 1, 1, Pooling.CLS, 2);
        assertThatThrownBy(() -> registry.publish(draft(RandomTopWeights.of(wrongHeads, 1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("The top's layers are shaped width 32, " + moreHeads.heads());
        published = publishFineTuned(1);
        TopFormat.write(RandomTopWeights.of(wrongHeads, 1), published.dir().resolve("top.bin"));
        rehash(published.dir());
        assertRefused("top.bin has layers shaped width 32, " + moreHeads.heads() + " heads");

        publishFineTuned(1);
        editManifest(m -> m.withArray("labels").add("phishing"));
        assertRefused("top.bin has 2 outputs but the manifest lists 3 labels");

        // The tiny encoder is a TensorFlow one: its layers use BERT's tanh-approximated GELU.
        TopSpec exactGelu =
                new TopSpec(shape(), encoderLayers - 1, 1, Pooling.CLS, 2, Activation.GELU_ERF);
        assertThatThrownBy(() -> registry.publish(draft(RandomTopWeights.of(exactGelu, 1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("The top's layers use gelu but encoder");
        published = publishFineTuned(1);
        TopFormat.write(RandomTopWeights.of(exactGelu, 1), published.dir().resolve("top.bin"));
        rehash(published.dir());
        assertRefused("top.bin computes gelu but the encoder's layers use gelu_tanh");
    }

    @Test
    void refusesAChangedOrMissingTop() throws Exception {
        ModelBundle published = publishFineTuned(1);
        Path top = published.dir().resolve("top.bin");
        byte[] bytes = Files.readAllBytes(top);
        bytes[bytes.length - 3] ^= 0x01;
        Files.write(top, bytes);
        assertRefused("top.bin does not match its manifest");

        Files.delete(top);
        assertRefused("top.bin is missing");

        publishFineTuned(1);
        editManifest(m -> ((ObjectNode) m.get("files")).remove("top.bin"));
        assertRefused("top file top.bin is not listed");
    }

    @Test
    void refusesAFineTunedTopUnderTheHeadOnlyVersion() throws Exception {
        publishFineTuned(1);
        editManifest(m -> ((ObjectNode) m).put("formatVersion", 1));

        assertRefused("a format version 1 manifest cannot carry a fine-tuned top");
    }

    @Test
    void aHeadTailVersionNamesItsTruncationUnderItsOwnFormatVersion() throws Exception {
        ModelBundle head =
                registry.publish(
                        ModelDraft.builder("spam", encoder.contentHash())
                                .head(head())
                                .maxSeqLen(32)
                                .truncation(Truncation.headTail(8))
                                .build());
        ModelBundle top =
                registry.publish(
                        ModelDraft.builder("spam", encoder.contentHash())
                                .fineTuned(RandomTopWeights.of(topSpec(1, Pooling.CLS), 4), LABELS)
                                .maxSeqLen(32)
                                .truncation(Truncation.headTail(8))
                                .build());

        for (ModelBundle published : List.of(head, top)) {
            ModelManifest manifest = registry.open("spam", published.version()).manifest();
            assertThat(manifest.formatVersion()).isEqualTo(ModelManifest.TRUNCATION_FORMAT_VERSION);
            assertThat(manifest.textTruncation()).isEqualTo(Truncation.headTail(8));
            var json = JSON.readTree(published.dir().resolve("manifest.json").toFile());
            assertThat(json.get("truncation").asText()).isEqualTo("head-tail:8");
        }
        assertThat(registry.open("spam", top.version()).isFineTuned()).isTrue();
        assertThat(registry.open("spam", head.version()).isFineTuned()).isFalse();
    }

    @Test
    void refusesATruncationAnOlderReaderWouldIgnore() throws Exception {
        registry.publish(headDraft());
        editManifest(m -> m.put("truncation", "head-tail:8"));
        assertRefused("a truncation other than the head is named by format version 3 manifests");

        publishFineTuned(1);
        editManifest(m -> m.put("truncation", "head-tail:8"));
        assertRefused("(this one: version 2, truncation head-tail:8)");
    }

    @Test
    void refusesTheTruncationVersionWithoutATruncationOrWithOneThatDoesNotFit() throws Exception {
        registry.publish(headDraft());
        editManifest(m -> m.put("formatVersion", 3));
        assertRefused("(this one: version 3, truncation null)");

        registry.publish(headDraft());
        editManifest(m -> m.put("formatVersion", 3).put("truncation", "head-tail:30"));
        assertRefused("head-tail:30 keeps 30 head tokens, leaving no tail within 32 tokens");
    }

    @Test
    void aBlendedVersionCarriesItsNgramModelUnderItsOwnFormatVersion() throws Exception {
        NgramClassifier ngrams = TestNgrams.random(2, 7);
        ModelBundle head =
                registry.publish(
                        ModelDraft.builder("spam", encoder.contentHash())
                                .head(head())
                                .maxSeqLen(32)
                                .blend(ngrams, 0.3)
                                .build());
        ModelBundle top =
                registry.publish(
                        ModelDraft.builder("spam", encoder.contentHash())
                                .fineTuned(RandomTopWeights.of(topSpec(1, Pooling.CLS), 4), LABELS)
                                .maxSeqLen(32)
                                .truncation(Truncation.headTail(8))
                                .blend(ngrams, 0.6)
                                .build());

        for (ModelBundle published : List.of(head, top)) {
            ModelBundle reopened = registry.open("spam", published.version());
            ModelManifest manifest = reopened.manifest();
            assertThat(manifest.formatVersion()).isEqualTo(ModelManifest.NGRAM_FORMAT_VERSION);
            assertThat(manifest.files())
                    .containsEntry(
                            "ngrams.bin", Digests.sha256(reopened.dir().resolve("ngrams.bin")));
            for (String text : TestNgrams.TEXTS) {
                assertThat(reopened.ngrams().probabilities(text))
                        .containsExactly(ngrams.probabilities(text));
            }
        }
        assertThat(registry.open("spam", head.version()).manifest().ngrams())
                .isEqualTo(new NgramBlend("ngrams.bin", 0.3));
        ModelBundle reopenedTop = registry.open("spam", top.version());
        assertThat(reopenedTop.isFineTuned()).isTrue();
        assertThat(reopenedTop.manifest().textTruncation()).isEqualTo(Truncation.headTail(8));
        assertThat(registry.open("spam", head.version()).isBlended()).isTrue();
        ModelBundle plain = registry.publish(headDraft());
        assertThat(plain.isBlended()).isFalse();
        assertThatThrownBy(plain::ngrams)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("blends no n-gram model");
    }

    @Test
    void refusesAChangedNgramModelOrABlendAnOlderReaderWouldIgnore() throws Exception {
        ModelBundle blended = registry.publish(blendedHeadDraft());
        Path file = blended.dir().resolve("ngrams.bin");
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 1] ^= 0x01;
        Files.write(file, bytes);
        assertRefused("ngrams.bin does not match its manifest");

        registry.publish(blendedHeadDraft());
        editManifest(m -> m.put("formatVersion", 1));
        assertRefused("an n-gram blend is named by format version 4 manifests, and only by them");

        registry.publish(headDraft());
        editManifest(m -> m.put("formatVersion", 4));
        assertRefused("(this one: version 4)");

        assertThatThrownBy(
                        () ->
                                ModelDraft.builder("spam", encoder.contentHash())
                                        .head(head())
                                        .blend(TestNgrams.random(3, 8), 0.5)
                                        .build())
                .hasMessageContaining("The n-gram model answers for 3 labels but the draft has 2");
        ModelBundle relabeled = registry.publish(blendedHeadDraft());
        NgramFormat.write(TestNgrams.random(3, 8), relabeled.dir().resolve("ngrams.bin"));
        rehash(relabeled.dir());
        assertRefused("ngrams.bin answers for 3 labels but the manifest lists 2");

        registry.publish(blendedHeadDraft());
        editManifest(m -> ((ObjectNode) m.get("ngrams")).put("encoderWeight", 1.0));
        assertRefused("the encoder's share of the blend must be inside (0, 1), not 1.0");
    }

    @Test
    void aDraftIsEitherAHeadOrATop() {
        TopWeights top = RandomTopWeights.of(topSpec(1, Pooling.CLS), 1);
        assertThatThrownBy(
                        () ->
                                ModelDraft.builder("spam", encoder.contentHash())
                                        .head(head())
                                        .fineTuned(top, LABELS)
                                        .build())
                .hasMessageContaining("either a head or a fine-tuned top, not both");
        assertThatThrownBy(
                        () ->
                                ModelDraft.builder("spam", encoder.contentHash())
                                        .fineTuned(top, List.of("a", "b", "c")))
                .hasMessageContaining("3 label names for a top whose head has 2 outputs");
        assertThatThrownBy(
                        () ->
                                ModelDraft.builder("spam", encoder.contentHash())
                                        .fineTuned(top, LABELS)
                                        .pooling(Pooling.MEAN)
                                        .build())
                .hasMessageContaining("trained with pooling cls but the draft says mean");
    }

    @Test
    void anInt8TopIsRefusedOnTensorFlowAndUnlessItsFormatVersionSaysSo() throws Exception {
        TopWeights top = RandomTopWeights.of(topSpec(1, Pooling.CLS), 3);
        ModelDraft int8 =
                ModelDraft.builder("spam", encoder.contentHash())
                        .fineTuned(top, LABELS)
                        .int8Top()
                        .maxSeqLen(32)
                        .build();
        assertThatThrownBy(() -> registry.publish(int8))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("An int8 top is served on ONNX Runtime");
        assertThat(registry.latestVersion("spam")).isEmpty();

        // An older reader would serve this top in float32: only format version 5 may say int8.
        publishFineTuned(1);
        editManifest(m -> ((ObjectNode) m.get("fineTune")).put("precision", "int8"));
        assertRefused("an int8 top is named by format version 5 manifests, and only by them");
        editManifest(m -> m.put("formatVersion", ModelManifest.INT8_TOP_FORMAT_VERSION));
        assertRefused("an int8 top is served on ONNX Runtime, and encoder");
        editManifest(m -> ((ObjectNode) m.get("fineTune")).put("precision", "int4"));
        assertRefused("a top's precision is int8 or left out, not int4");
    }

    private ModelBundle publishFineTuned(int layers) throws Exception {
        return registry.publish(draft(RandomTopWeights.of(topSpec(layers, Pooling.CLS), 5)));
    }

    private ModelDraft draft(TopWeights top) {
        return ModelDraft.builder("spam", encoder.contentHash())
                .fineTuned(top, LABELS)
                .maxSeqLen(32)
                .metrics(Map.of("accuracy", 0.9))
                .build();
    }

    private ModelDraft blendedHeadDraft() {
        return ModelDraft.builder("spam", encoder.contentHash())
                .head(head())
                .maxSeqLen(32)
                .blend(TestNgrams.random(2, 8), 0.5)
                .build();
    }

    private ModelDraft headDraft() {
        return ModelDraft.builder("spam", encoder.contentHash()).head(head()).maxSeqLen(32).build();
    }

    private static ClassificationHead head() {
        return new ClassificationHead(
                new float[TinyBertEncoder.HIDDEN_SIZE * 2], new float[2], LABELS);
    }

    private TopSpec topSpec(int layers, Pooling pooling) {
        return new TopSpec(shape(), encoderLayers - layers, layers, pooling, 2);
    }

    private LayerShape shape() {
        return encoder.layerShape();
    }

    /** Edits the latest version's manifest.json as a JSON tree. */
    private void editManifest(Consumer<ObjectNode> edit) throws Exception {
        Path file = latestDir().resolve("manifest.json");
        ObjectNode manifest = (ObjectNode) JSON.readTree(file.toFile());
        edit.accept(manifest);
        JSON.writeValue(file.toFile(), manifest);
    }

    /** Records the current hash of every file, as a tamperer who also edits the manifest would. */
    private void rehash(Path dir) throws Exception {
        var files = Digests.fileTree(dir, "manifest.json");
        editManifest(m -> m.set("files", JSON.valueToTree(files)));
    }

    private void assertRefused(String message) throws Exception {
        long version = registry.latestVersion("spam").orElseThrow();
        assertThatThrownBy(() -> registry.open("spam", version))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining(message);
    }

    private Path latestDir() throws Exception {
        return registry.versionDir("spam", registry.latestVersion("spam").orElseThrow());
    }

    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }
}
