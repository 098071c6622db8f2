package dev.sift.serving.testing;

import dev.sift.model.bundle.ConfidenceProfile;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.Manifests;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.finetune.TopSpec;
import dev.sift.model.finetune.TopWeights;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.ngram.NgramClassifier;
import dev.sift.model.ngram.TestNgrams;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelDraft;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.model.testing.TinyOnnxEncoder;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.request.ClassifyRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.tensorflow.SavedModelBundle;

/** A registry on the tiny test encoder, with helpers to publish heads and announce them. */
public final class TestModels {

    /** Announcement times of this JVM, strictly growing: a job refuses one not newer. */
    private static final AtomicLong LAST_ANNOUNCED = new AtomicLong();

    private final ModelRegistry registry;
    private final String encoderHash;

    public TestModels(Path root) throws IOException {
        registry = ModelRegistry.at(root);
        encoderHash = TinyBertEncoder.buildInto(registry.encodersDir()).contentHash();
    }

    public ModelRegistry registry() {
        return registry;
    }

    /**
     * Publishes a deterministic random head for {@code name}, seeded by {@code seed}, and records
     * its activation in the registry, as {@code sift-trainer announce --registry-only} does: a job
     * started without state serves it.
     */
    public ModelBundle publish(String name, long seed, Pooling pooling) throws IOException {
        ModelBundle bundle = publishUnannounced(name, seed, pooling);
        record(announcement(bundle, ModelAction.ACTIVATE));
        return bundle;
    }

    /** Records {@code announcement} as the one a job started without state obeys. */
    public void record(ModelAnnouncement announcement) throws IOException {
        registry.recordAnnouncement(announcement.getName(), encode(announcement));
    }

    /**
     * Publishes a fine-tuned model for {@code name}: the tiny encoder's own top {@code topLayers}
     * layers, every weight moved by deterministic noise seeded by {@code seed} (so the top computes
     * something the frozen encoder does not), and a random head; then records its activation like
     * {@link #publish}.
     */
    public ModelBundle publishFineTuned(String name, long seed, int topLayers, Pooling pooling)
            throws IOException {
        ModelBundle bundle = registry.publish(fineTunedDraft(name, seed, topLayers, pooling));
        record(announcement(bundle, ModelAction.ACTIVATE));
        return bundle;
    }

    /** The draft {@link #publishFineTuned} publishes. */
    public ModelDraft fineTunedDraft(String name, long seed, int topLayers, Pooling pooling)
            throws IOException {
        EncoderBundle encoder = registry.encoder(encoderHash);
        EncoderManifest m = encoder.manifest();
        TopSpec spec = TopSpec.top(m.layerShape(), m.transformerLayers(), topLayers, pooling, 2);
        Random random = new Random(seed);
        float[] kernel = new float[m.hiddenSize() * 2];
        for (int i = 0; i < kernel.length; i++) {
            kernel[i] = (float) random.nextGaussian();
        }
        TopWeights pretrained;
        try (SavedModelBundle saved =
                SavedModelBundle.load(encoder.savedModelDir().toString(), m.tags().get(0))) {
            pretrained =
                    TopWeights.fromSavedModel(
                            saved.session(), spec, kernel, new float[] {0.1f, -0.1f});
        }
        Map<String, float[]> tuned = new LinkedHashMap<>();
        pretrained
                .values()
                .forEach(
                        (parameter, values) -> {
                            float[] moved = values.clone();
                            for (int i = 0; i < moved.length; i++) {
                                moved[i] += (float) (0.05 * random.nextGaussian());
                            }
                            tuned.put(parameter, moved);
                        });
        return ModelDraft.builder(name, encoderHash)
                .fineTuned(TopWeights.of(spec, tuned), List.of("ham", "spam"))
                .maxSeqLen(TinyBertEncoder.MAX_SEQ_LEN)
                .build();
    }

    /**
     * Publishes, unannounced, a version of {@code name} that blends a random n-gram model seeded by
     * {@code seed} into a random head, half and half.
     */
    public ModelBundle publishBlended(String name, long seed) throws IOException {
        ModelBundle headOnly = publishUnannounced(name + "-head", seed, Pooling.CLS);
        return registry.publish(
                ModelDraft.builder(name, encoderHash)
                        .head(headOnly.head())
                        .maxSeqLen(TinyBertEncoder.MAX_SEQ_LEN)
                        .blend(TestNgrams.random(2, seed), 0.5)
                        .build());
    }

    /**
     * Publishes and announces, like {@link #publish}, a random head on the tiny ONNX encoder
     * ({@link TinyOnnxEncoder}), which is installed beside the tiny BERT the first time.
     */
    public ModelBundle publishOnOnnx(String name, long seed, Pooling pooling) throws IOException {
        String onnxHash = TinyOnnxEncoder.buildInto(registry.encodersDir()).contentHash();
        ModelBundle bundle =
                registry.publish(
                        ModelDraft.builder(name, onnxHash)
                                .pooling(pooling)
                                .maxSeqLen(TinyOnnxEncoder.MAX_SEQ_LEN)
                                .head(randomHead(TinyOnnxEncoder.HIDDEN_SIZE, seed))
                                .build());
        record(announcement(bundle, ModelAction.ACTIVATE));
        return bundle;
    }

    /**
     * Publishes and announces a cascading version of {@code name}: {@code ngrams} answers alone
     * from a top probability of {@code threshold}, the rest get a random head's answer blended with
     * it half and half.
     */
    public ModelBundle publishCascading(
            String name, long seed, NgramClassifier ngrams, double threshold) throws IOException {
        ModelBundle bundle =
                registry.publish(
                        ModelDraft.builder(name, encoderHash)
                                .head(randomHead(TinyBertEncoder.HIDDEN_SIZE, seed))
                                .maxSeqLen(TinyBertEncoder.MAX_SEQ_LEN)
                                .cascade(ngrams, 0.5, threshold)
                                .build());
        record(announcement(bundle, ModelAction.ACTIVATE));
        return bundle;
    }

    /**
     * Publishes and announces like {@link #publish}, the version carrying {@code profile} as its
     * test-set confidence profile, as the trainer attaches one.
     */
    public ModelBundle publishWithProfile(
            String name, long seed, Pooling pooling, ConfidenceProfile profile) throws IOException {
        Path file = Files.createTempFile("confidence", ".json");
        try {
            Files.write(file, Manifests.toBytes(profile));
            ModelBundle bundle =
                    registry.publish(
                            headDraft(name, seed, pooling)
                                    .attachments(Map.of(ConfidenceProfile.FILE_NAME, file))
                                    .build());
            record(announcement(bundle, ModelAction.ACTIVATE));
            return bundle;
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Publishes like {@link #publish} but announces nothing. */
    public ModelBundle publishUnannounced(String name, long seed, Pooling pooling)
            throws IOException {
        return registry.publish(headDraft(name, seed, pooling).build());
    }

    /** A head-only version on the tiny encoder, its head seeded by {@code seed}. */
    private ModelDraft.Builder headDraft(String name, long seed, Pooling pooling) {
        return ModelDraft.builder(name, encoderHash)
                .pooling(pooling)
                .maxSeqLen(TinyBertEncoder.MAX_SEQ_LEN)
                .head(randomHead(TinyBertEncoder.HIDDEN_SIZE, seed));
    }

    /** A head of standard normal weights seeded by {@code seed}, over ham and spam. */
    private static ClassificationHead randomHead(int inputSize, long seed) {
        Random random = new Random(seed);
        float[] w = new float[inputSize * 2];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        return new ClassificationHead(w, new float[] {0.1f, -0.1f}, List.of("ham", "spam"));
    }

    public static ModelAnnouncement announcement(ModelBundle bundle, ModelAction action) {
        return ModelAnnouncement.newBuilder()
                .setName(bundle.name())
                .setVersion(bundle.version())
                .setAction(action)
                .setBundleUri(bundle.dir().toUri().toString())
                .setManifestSha256(bundle.manifestSha256())
                .setAnnouncedAt(nextAnnouncementTime())
                .build();
    }

    /** Now, or a millisecond after the last announcement of this JVM if the clock has not moved. */
    public static Instant nextAnnouncementTime() {
        return Instant.ofEpochMilli(
                LAST_ANNOUNCED.updateAndGet(
                        last -> Math.max(last + 1, System.currentTimeMillis())));
    }

    public static byte[] encode(ModelAnnouncement announcement) {
        return RecordCodec.of(ModelAnnouncement.class).encode(announcement);
    }

    public static ClassifyRequest text(String id, String text, String... models) {
        ClassifyRequest request = new ClassifyRequest();
        request.id = id;
        request.text = text;
        request.models = new java.util.ArrayList<>(List.of(models));
        request.eventTimeMillis = System.currentTimeMillis();
        request.topic = "requests";
        request.originalValue = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return request;
    }
}
