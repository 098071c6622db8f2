package dev.sift.serving.models;

import dev.sift.model.SharedByKey;
import dev.sift.model.bundle.ConfidenceProfile;
import dev.sift.model.bundle.ModelManifest;
import dev.sift.model.encode.Encoder;
import dev.sift.model.encode.PassCost;
import dev.sift.model.encode.SharedEncoders;
import dev.sift.model.finetune.SharedTops;
import dev.sift.model.finetune.Top;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.ngram.NgramClassifier;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.tokenize.BertTokenizer;
import java.util.List;
import java.util.Optional;

/**
 * A model version ready to serve: its verified manifest and head, a lease on the JVM's shared
 * encoder for its content hash, a tokenizer at its truncation length and, for a fine-tuned version,
 * a lease on the JVM's shared top of that version ({@link SharedTops}: its own layers and head, a
 * {@link Top} in native memory, built once however many subtasks load the version). Closing it
 * gives both leases back; the last holder's release closes the top. It keeps no copy of a top's
 * weights on the heap: once the top is built, the bundle's arrays are left to the garbage
 * collector, so a fine-tuned model costs its layers once per JVM.
 *
 * <p>A head-only model reads a pooled vector of the encoder's last layer; a fine-tuned one reads
 * the encoder's output after {@link #trunkLayers()} layers (the trunk every model on that encoder
 * can share) and runs the rest itself. A blended version ({@link #answer}) then combines that
 * answer with its n-gram model's on the whole text; the n-gram model lives on the heap, one copy
 * per version per JVM, shared as the tops are (32 MB for the SpamAssassin model's 245,000 n-grams).
 */
public final class LoadedModel implements AutoCloseable {

    private final ModelManifest manifest;
    private final String manifestSha256;
    private final ClassificationHead head;
    private final String description;
    private final SharedEncoders.Lease encoder;
    private final BertTokenizer tokenizer;
    private final SharedTops.Lease topLease;
    private final SharedByKey<SharedTops.Identity, NgramClassifier>.Lease ngramsLease;
    private final NgramClassifier ngrams;
    private final ConfidenceProfile confidence;

    LoadedModel(
            ModelBundle bundle,
            SharedEncoders.Lease encoder,
            BertTokenizer tokenizer,
            SharedTops.Lease topLease,
            SharedByKey<SharedTops.Identity, NgramClassifier>.Lease ngramsLease) {
        this.manifest = bundle.manifest();
        this.manifestSha256 = bundle.manifestSha256();
        this.head = bundle.isFineTuned() ? null : bundle.head();
        this.description = bundle.toString();
        this.encoder = encoder;
        this.tokenizer = tokenizer;
        this.topLease = topLease;
        this.ngramsLease = ngramsLease;
        this.ngrams = ngramsLease == null ? null : ngramsLease.value();
        this.confidence = bundle.confidenceProfile().orElse(null);
    }

    /**
     * How sure the version was on its test set, which drift metrics compare live answers with;
     * empty for a version published without one.
     */
    public Optional<ConfidenceProfile> confidenceProfile() {
        return Optional.ofNullable(confidence);
    }

    /**
     * The n-gram model of a blended version, shared by every loader of it in this JVM; only the
     * test of that sharing reads it, through package access.
     */
    NgramClassifier ngrams() {
        return ngrams;
    }

    public ModelManifest manifest() {
        return manifest;
    }

    /** The hash of the manifest it was loaded from, as announcements name it. */
    public String manifestSha256() {
        return manifestSha256;
    }

    public String name() {
        return manifest.name();
    }

    public long version() {
        return manifest.version();
    }

    /**
     * The head of a head-only version, which reads the encoder's pooled vectors.
     *
     * @throws IllegalStateException for a fine-tuned version, whose head is part of its {@link
     *     #top()}
     */
    public ClassificationHead head() {
        if (head == null) {
            throw new IllegalStateException(this + " is fine-tuned: its head is part of its top");
        }
        return head;
    }

    public Encoder encoder() {
        return encoder.encoder();
    }

    /** What a pass of its encoder costs on this machine, measured when the encoder loaded. */
    public PassCost passCost() {
        return encoder.passCost();
    }

    public BertTokenizer tokenizer() {
        return tokenizer;
    }

    /** Label names, in the order of the probabilities the model gives. */
    public List<String> labels() {
        return manifest.labels();
    }

    /** Whether this version runs its own top layers on the shared trunk. */
    public boolean fineTuned() {
        return topLease != null;
    }

    /**
     * How many encoder layers this model reads the output of: the split point of a fine-tuned
     * model; 0 for a head-only model, which reads the last layer's pooled vectors instead.
     */
    public int trunkLayers() {
        return topLease == null ? 0 : topLease.top().spec().firstLayer();
    }

    /**
     * The fine-tuned top: this model's layers above the trunk, pooling and head, shared with every
     * other subtask in this JVM serving the same version.
     *
     * @throws IllegalStateException for a head-only model
     */
    public Top top() {
        if (topLease == null) {
            throw new IllegalStateException(this + " is head-only: it has no top layers");
        }
        return topLease.top();
    }

    /**
     * The model's answer for a text (or pair) from its head's or top's probabilities: those
     * themselves, or for a blended version their blend with the n-gram model's on the whole text
     * ({@link NgramClassifier#blend}), as the trainer evaluated it.
     */
    public float[] answer(float[] encoderProbabilities, String text, String textB) {
        return answer(encoderProbabilities, text, textB, null);
    }

    /**
     * As {@link #answer(float[], String, String)}, with the n-gram model's probabilities for the
     * text when its first stage already computed them, else null.
     */
    public float[] answer(
            float[] encoderProbabilities, String text, String textB, float[] ngramProbabilities) {
        if (ngrams == null || manifest.ngrams().encoderWeight() == 1) {
            return encoderProbabilities;
        }
        return NgramClassifier.blend(
                encoderProbabilities,
                ngramProbabilities != null
                        ? ngramProbabilities
                        : ngrams.probabilities(NgramClassifier.text(text, textB)),
                manifest.ngrams().encoderWeight());
    }

    /**
     * Whether this version's n-gram model answers confident records alone ({@link #firstStage}).
     */
    public boolean cascades() {
        return manifest.ngrams() != null && manifest.ngrams().cascades();
    }

    /**
     * The first stage of a cascading version: the n-gram model's probabilities for a text (or
     * pair), and whether they reach the version's threshold, in which case they are the version's
     * answer and the encoder is not asked; null for a version that does not cascade. Where they
     * fall short, {@link #answer(float[], String, String, float[])} blends them without scoring the
     * text again.
     */
    public FirstStage firstStage(String text, String textB) {
        if (!cascades()) {
            return null;
        }
        float[] p = ngrams.probabilities(NgramClassifier.text(text, textB));
        float top = p[ClassificationHead.argMax(p)];
        return new FirstStage(p, top >= manifest.ngrams().cascadeThreshold());
    }

    /** The n-gram model's answer to one record, and whether it is sure enough to stand alone. */
    public record FirstStage(float[] ngramProbabilities, boolean sure) {}

    /** Models that tokenize alike and share an encoder pass have equal keys. */
    public String encoderKey() {
        return manifest.encoder().contentHash()
                + "/"
                + manifest.maxSeqLen()
                + "/"
                + manifest.textTruncation().id();
    }

    @Override
    public void close() {
        try {
            if (topLease != null) {
                topLease.close();
            }
            if (ngramsLease != null) {
                ngramsLease.close();
            }
        } finally {
            tokenizer.close();
            encoder.close();
        }
    }

    @Override
    public String toString() {
        return description;
    }
}
