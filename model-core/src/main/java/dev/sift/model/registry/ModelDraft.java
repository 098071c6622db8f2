package dev.sift.model.registry;

import dev.sift.model.encode.Pooling;
import dev.sift.model.head.ClassificationHead;
import java.util.Map;
import java.util.Objects;

/**
 * What a trainer hands to {@link ModelRegistry#publish}: everything of a model version but the
 * version number, which the registry assigns.
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
        Map<String, String> training) {

    public ModelDraft {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(encoderHash, "encoderHash");
        Objects.requireNonNull(pooling, "pooling");
        Objects.requireNonNull(head, "head");
        metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
        training = training == null ? Map.of() : Map.copyOf(training);
    }
}
