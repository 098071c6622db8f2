package dev.sift.sql;

import dev.sift.model.bundle.Pooling;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelDraft;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.trainer.publish.Announcer;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.List;
import java.util.Random;

/** A registry on model-core's tiny test encoder, with deterministic random heads to publish. */
final class TinyModels {

    private final ModelRegistry registry;
    private final String encoderHash;

    TinyModels(Path root) throws IOException {
        registry = ModelRegistry.at(root);
        encoderHash = TinyBertEncoder.buildInto(registry.encodersDir()).contentHash();
    }

    ModelRegistry registry() {
        return registry;
    }

    /**
     * Records {@code action} of {@code bundle} in the registry, as 'sift-trainer announce
     * --registry-only' does, signed with {@code key} when one is given; returns what was recorded.
     */
    ModelAnnouncement announce(ModelBundle bundle, ModelAction action, PrivateKey key)
            throws Exception {
        ModelAnnouncement announcement = Announcer.announcement(registry, bundle, action, key);
        Announcer.record(registry, announcement);
        return announcement;
    }

    /** Publishes the next version of {@code name}: a three-label head seeded by {@code seed}. */
    ModelBundle publish(String name, long seed, Pooling pooling) throws IOException {
        Random random = new Random(seed);
        float[] w = new float[TinyBertEncoder.HIDDEN_SIZE * 3];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        ClassificationHead head =
                new ClassificationHead(
                        w, new float[] {0.1f, 0f, -0.1f}, List.of("ham", "spam", "phish"));
        return registry.publish(
                ModelDraft.builder(name, encoderHash)
                        .pooling(pooling)
                        .maxSeqLen(TinyBertEncoder.MAX_SEQ_LEN)
                        .head(head)
                        .build());
    }
}
