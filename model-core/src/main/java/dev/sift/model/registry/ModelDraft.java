package dev.sift.model.registry;

import dev.sift.model.bundle.Manifests;
import dev.sift.model.bundle.ModelManifest;
import dev.sift.model.encode.Pooling;
import dev.sift.model.head.ClassificationHead;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * What a trainer hands to {@link ModelRegistry#publish}: everything of a model version but the
 * version number, which the registry assigns. {@code attachments} (a training report, say) are
 * copied into the bundle under their map keys and hashed like every other file.
 */
public record ModelDraft(
        String name,
        String encoderHash,
        Pooling pooling,
        int maxSeqLen,
        ClassificationHead head,
        Map<String, Double> metrics,
        Long parentVersion,
        String trainingDataHash,
        Map<String, String> training,
        Map<String, Path> attachments) {

    public ModelDraft {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(encoderHash, "encoderHash");
        Objects.requireNonNull(pooling, "pooling");
        Objects.requireNonNull(head, "head");
        metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
        training = training == null ? Map.of() : Map.copyOf(training);
        attachments = attachments == null ? Map.of() : Map.copyOf(attachments);
        if (attachments.containsKey(ModelManifest.HEAD_FILE)
                || attachments.containsKey(Manifests.FILE_NAME)) {
            throw new IllegalArgumentException(
                    "An attachment may not replace the head or manifest");
        }
    }
}
