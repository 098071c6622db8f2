package dev.sift.model.registry;

import dev.sift.model.bundle.FineTunedTop;
import dev.sift.model.bundle.Manifests;
import dev.sift.model.bundle.ModelManifest;
import dev.sift.model.bundle.NgramBlend;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.finetune.TopWeights;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.ngram.NgramClassifier;
import dev.sift.model.ngram.NgramFormat;
import dev.sift.model.tokenize.Truncation;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a trainer hands to {@link ModelRegistry#publish}: everything of a model version but the
 * version number, which the registry assigns. A draft is either head-only ({@code head}) or
 * fine-tuned ({@code top}: its own top layers and head), never both. {@code attachments} (a
 * training report, say) are copied into the bundle under their map keys and hashed like every other
 * file. {@code truncation} says how texts longer than {@code maxSeqLen} were cut in training (null:
 * their head), so that the job cuts them alike. {@code blend}, when set, is an n-gram model whose
 * probabilities the version combines with its head's or top's ({@link NgramBlend}).
 *
 * <pre>{@code
 * ModelDraft draft = ModelDraft.builder("spam", encoder.contentHash())
 *         .fineTuned(topWeights, List.of("ham", "spam"))
 *         .maxSeqLen(128)
 *         .metrics(Map.of("accuracy", 0.99))
 *         .build();
 * }</pre>
 */
public record ModelDraft(
        String name,
        String encoderHash,
        Pooling pooling,
        int maxSeqLen,
        ClassificationHead head,
        FineTuned top,
        Map<String, Double> metrics,
        Long parentVersion,
        String trainingDataHash,
        Map<String, String> training,
        Map<String, Path> attachments,
        Truncation truncation,
        Blend blend) {

    /**
     * An n-gram model to blend in, the head's or top's share of the blend, and the cascade
     * threshold from which the n-gram model answers alone, or null (see {@link NgramBlend}).
     */
    public record Blend(NgramClassifier model, double encoderWeight, Double cascadeThreshold) {
        public Blend {
            Objects.requireNonNull(model, "model");
            String problem = NgramBlend.problem(encoderWeight, cascadeThreshold);
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
        }
    }

    /**
     * A fine-tuned top, the names of its labels, in the head's column order (the weights know only
     * how many there are), and whether it is served with 8-bit matrix multiplies.
     */
    public record FineTuned(TopWeights weights, List<String> labels, boolean int8) {

        /** A top served in float32. */
        public FineTuned(TopWeights weights, List<String> labels) {
            this(weights, labels, false);
        }

        public FineTuned {
            Objects.requireNonNull(weights, "weights");
            labels = List.copyOf(Objects.requireNonNull(labels, "labels"));
            if (labels.size() != weights.spec().labels()) {
                throw new IllegalArgumentException(
                        labels.size()
                                + " label names for a top whose head has "
                                + weights.spec().labels()
                                + " outputs");
            }
        }
    }

    public ModelDraft {
        Objects.requireNonNull(name, "name");
        truncation = truncation != null ? truncation : Truncation.HEAD;
        truncation.checkFits(maxSeqLen);
        Objects.requireNonNull(encoderHash, "encoderHash");
        Objects.requireNonNull(pooling, "pooling");
        if ((head == null) == (top == null)) {
            throw new IllegalArgumentException(
                    "A model draft needs either a head or a fine-tuned top, not "
                            + (head == null ? "neither" : "both"));
        }
        if (top != null && top.weights().spec().pooling() != pooling) {
            throw new IllegalArgumentException(
                    "The top was trained with pooling "
                            + top.weights().spec().pooling().id()
                            + " but the draft says "
                            + pooling.id());
        }
        metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
        training = training == null ? Map.of() : Map.copyOf(training);
        attachments = attachments == null ? Map.of() : Map.copyOf(attachments);
        if (attachments.containsKey(ModelManifest.HEAD_FILE)
                || attachments.containsKey(FineTunedTop.TOP_FILE)
                || attachments.containsKey(NgramFormat.FILE_NAME)
                || attachments.containsKey(Manifests.FILE_NAME)) {
            throw new IllegalArgumentException(
                    "An attachment may not replace the head, the top, the n-gram model or the"
                            + " manifest");
        }
        int labelCount = top != null ? top.labels().size() : head.labels().size();
        if (blend != null && blend.model().labelCount() != labelCount) {
            throw new IllegalArgumentException(
                    "The n-gram model answers for "
                            + blend.model().labelCount()
                            + " labels but the draft has "
                            + labelCount);
        }
    }

    public boolean isFineTuned() {
        return top != null;
    }

    /** Label names in the head's column order. */
    public List<String> labels() {
        return top != null ? top.labels() : head.labels();
    }

    public static Builder builder(String name, String encoderHash) {
        return new Builder(name, encoderHash);
    }

    /** Names every setting at the call site; {@link #build} validates them. */
    public static final class Builder {
        private final String name;
        private final String encoderHash;
        private Pooling pooling;
        private int maxSeqLen = 128;
        private ClassificationHead head;
        private FineTuned top;
        private Map<String, Double> metrics;
        private Long parentVersion;
        private String trainingDataHash;
        private Map<String, String> training;
        private Map<String, Path> attachments;
        private Truncation truncation = Truncation.HEAD;
        private Blend blend;

        private Builder(String name, String encoderHash) {
            this.name = name;
            this.encoderHash = encoderHash;
        }

        /** Default: {@link Pooling#CLS} for a head, the top's own pooling for a fine-tuned top. */
        public Builder pooling(Pooling pooling) {
            this.pooling = pooling;
            return this;
        }

        /** Default 128. */
        public Builder maxSeqLen(int maxSeqLen) {
            this.maxSeqLen = maxSeqLen;
            return this;
        }

        /** Default {@link Truncation#HEAD}. */
        public Builder truncation(Truncation truncation) {
            this.truncation = truncation;
            return this;
        }

        public Builder head(ClassificationHead head) {
            this.head = head;
            return this;
        }

        public Builder fineTuned(TopWeights weights, List<String> labels) {
            this.top = new FineTuned(weights, labels);
            return this;
        }

        /**
         * Serves the fine-tuned top with 8-bit matrix multiplies ({@link FineTunedTop#INT8}); only
         * a top on an ONNX encoder can be.
         */
        public Builder int8Top() {
            if (top == null) {
                throw new IllegalStateException("Set the fine-tuned top before making it int8");
            }
            this.top = new FineTuned(top.weights(), top.labels(), true);
            return this;
        }

        /**
         * Blends {@code ngrams} into the answer, the head or top weighing {@code encoderWeight}.
         */
        public Builder blend(NgramClassifier ngrams, double encoderWeight) {
            this.blend = new Blend(ngrams, encoderWeight, null);
            return this;
        }

        /**
         * Makes {@code ngrams} the version's first stage, answering alone from a top probability of
         * {@code threshold}, and blends it into the rest with the head or top weighing {@code
         * encoderWeight} (1: not blended).
         */
        public Builder cascade(NgramClassifier ngrams, double encoderWeight, double threshold) {
            this.blend = new Blend(ngrams, encoderWeight, threshold);
            return this;
        }

        public Builder metrics(Map<String, Double> metrics) {
            this.metrics = metrics;
            return this;
        }

        public Builder parentVersion(Long parentVersion) {
            this.parentVersion = parentVersion;
            return this;
        }

        public Builder trainingDataHash(String trainingDataHash) {
            this.trainingDataHash = trainingDataHash;
            return this;
        }

        public Builder training(Map<String, String> training) {
            this.training = training;
            return this;
        }

        public Builder attachments(Map<String, Path> attachments) {
            this.attachments = attachments;
            return this;
        }

        public ModelDraft build() {
            Pooling chosen = pooling;
            if (chosen == null) {
                chosen = top != null ? top.weights().spec().pooling() : Pooling.CLS;
            }
            return new ModelDraft(
                    name,
                    encoderHash,
                    chosen,
                    maxSeqLen,
                    head,
                    top,
                    metrics,
                    parentVersion,
                    trainingDataHash,
                    training,
                    attachments,
                    truncation,
                    blend);
        }
    }
}
