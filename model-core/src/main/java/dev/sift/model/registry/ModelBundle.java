package dev.sift.model.registry;

import static dev.sift.model.bundle.BundleFiles.require;

import dev.sift.model.bundle.BundleException;
import dev.sift.model.bundle.BundleFiles;
import dev.sift.model.bundle.ConfidenceProfile;
import dev.sift.model.bundle.Digests;
import dev.sift.model.bundle.EncoderEngine;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.FineTunedTop;
import dev.sift.model.bundle.LayerShape;
import dev.sift.model.bundle.Manifests;
import dev.sift.model.bundle.ModelManifest;
import dev.sift.model.bundle.NgramBlend;
import dev.sift.model.finetune.TopFormat;
import dev.sift.model.finetune.TopSpec;
import dev.sift.model.finetune.TopWeights;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.head.HeadFormat;
import dev.sift.model.ngram.NgramClassifier;
import dev.sift.model.ngram.NgramFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * One verified model version: its manifest, its head or fine-tuned top, and the hash of its
 * manifest (which model announcements carry). Only {@link #open} makes one, and it refuses anything
 * that does not check out, naming the file or field.
 */
public final class ModelBundle {

    private final Path dir;
    private final ModelManifest manifest;
    private final ClassificationHead head;
    private final TopWeights topWeights;
    private final NgramClassifier ngrams;
    private final ConfidenceProfile confidence;
    private final String manifestSha256;

    private ModelBundle(
            Path dir,
            ModelManifest manifest,
            ClassificationHead head,
            TopWeights topWeights,
            NgramClassifier ngrams,
            ConfidenceProfile confidence,
            String manifestSha256) {
        this.dir = dir;
        this.manifest = manifest;
        this.head = head;
        this.topWeights = topWeights;
        this.ngrams = ngrams;
        this.confidence = confidence;
        this.manifestSha256 = manifestSha256;
    }

    /**
     * Verifies {@code dir} against its manifest and the encoder it names: every file's SHA-256, no
     * unlisted file, the truncation length against the encoder's maximum, and then either the
     * head's shape against the encoder's hidden size and the label count, or, for a fine-tuned
     * version, its top: the trunk it expects is this encoder's, its split and layer count add up to
     * the encoder's layers, and every parameter has the shape the encoder and labels demand; and
     * for a blended version, that its n-gram model reads and answers for the manifest's labels.
     */
    public static ModelBundle open(Path dir, EncoderManifest encoder) throws IOException {
        // Hashed and parsed from the same bytes: the manifest read is the manifest announced.
        byte[] manifestBytes = Manifests.readBytes(dir);
        String manifestHash = Digests.sha256(manifestBytes);
        ModelManifest m = Manifests.parse(manifestBytes, dir, ModelManifest.class);
        require(ModelManifest.KIND.equals(m.kind()), dir, "manifest kind is not 'model'");
        require(
                m.formatVersion() == ModelManifest.FORMAT_VERSION
                        || m.formatVersion() == ModelManifest.FINE_TUNED_FORMAT_VERSION
                        || m.formatVersion() == ModelManifest.TRUNCATION_FORMAT_VERSION
                        || m.formatVersion() == ModelManifest.NGRAM_FORMAT_VERSION
                        || m.formatVersion() == ModelManifest.INT8_TOP_FORMAT_VERSION,
                dir,
                "model format version " + m.formatVersion() + " is not supported");
        require(
                m.fineTune() == null || m.fineTune().precision() == null || m.fineTune().isInt8(),
                dir,
                "a top's precision is "
                        + FineTunedTop.INT8
                        + " or left out, not "
                        + (m.fineTune() == null ? null : m.fineTune().precision()));
        boolean int8Top = m.fineTune() != null && m.fineTune().isInt8();
        require(
                (m.formatVersion() == ModelManifest.INT8_TOP_FORMAT_VERSION) == int8Top,
                dir,
                "an int8 top is named by format version "
                        + ModelManifest.INT8_TOP_FORMAT_VERSION
                        + " manifests, and only by them (this one: version "
                        + m.formatVersion()
                        + ")");
        require(
                !int8Top || encoder.runtime() == EncoderEngine.ONNX_RUNTIME,
                dir,
                "an int8 top is served on ONNX Runtime, and encoder "
                        + encoder.name()
                        + " runs on "
                        + encoder.runtime().id());
        boolean newerThanNgrams = m.formatVersion() == ModelManifest.INT8_TOP_FORMAT_VERSION;
        boolean namesTruncation = m.truncation() != null && !m.truncation().isHead();
        require(
                m.formatVersion() == ModelManifest.NGRAM_FORMAT_VERSION
                        || newerThanNgrams
                        || (m.formatVersion() == ModelManifest.TRUNCATION_FORMAT_VERSION)
                                == namesTruncation,
                dir,
                "a truncation other than the head is named by format version "
                        + ModelManifest.TRUNCATION_FORMAT_VERSION
                        + " manifests, and only by them or by versions "
                        + ModelManifest.NGRAM_FORMAT_VERSION
                        + " and "
                        + ModelManifest.INT8_TOP_FORMAT_VERSION
                        + " (this one: version "
                        + m.formatVersion()
                        + ", truncation "
                        + m.truncation()
                        + ")");
        require(
                newerThanNgrams
                        || (m.formatVersion() == ModelManifest.NGRAM_FORMAT_VERSION)
                                == m.isBlended(),
                dir,
                "an n-gram blend is named by format version "
                        + ModelManifest.NGRAM_FORMAT_VERSION
                        + " manifests, and only by them or by version "
                        + ModelManifest.INT8_TOP_FORMAT_VERSION
                        + " (this one: version "
                        + m.formatVersion()
                        + ")");
        require(m.name() != null && m.version() > 0, dir, "manifest lacks name or version");
        require(m.labels() != null && m.labels().size() >= 2, dir, "a model needs 2+ labels");
        require(m.pooling() != null, dir, "manifest names no pooling");
        require(m.encoder() != null, dir, "manifest names no encoder");
        m.encoder().requireSame(encoder, dir);
        require(
                m.maxSeqLen() >= 3 && m.maxSeqLen() <= encoder.maxSeqLen(),
                dir,
                "maxSeqLen " + m.maxSeqLen() + " is outside 3.." + encoder.maxSeqLen());
        require(m.files() != null, dir, "manifest lists no files");
        try {
            m.textTruncation().checkFits(m.maxSeqLen());
        } catch (IllegalArgumentException e) {
            throw new BundleException(dir + ": " + e.getMessage(), e);
        }
        boolean fineTuned =
                m.formatVersion() == ModelManifest.FINE_TUNED_FORMAT_VERSION
                        || (m.formatVersion() >= ModelManifest.TRUNCATION_FORMAT_VERSION
                                && m.fineTune() != null);
        if (fineTuned) {
            Map<String, byte[]> files = checkTopAndRead(dir, m, encoder);
            TopWeights top = openTop(dir, m, encoder, files);
            return new ModelBundle(
                    dir,
                    m,
                    null,
                    top,
                    openNgrams(dir, m, files),
                    openConfidence(dir, m, files),
                    manifestHash);
        }
        require(
                m.fineTune() == null,
                dir,
                "a format version 1 manifest cannot carry a fine-tuned top (version "
                        + ModelManifest.FINE_TUNED_FORMAT_VERSION
                        + " does)");
        require(
                m.files().containsKey(m.headFile()),
                dir,
                "head file " + m.headFile() + " is not listed");
        Map<String, byte[]> files = BundleFiles.readVerified(dir, m.files());

        ClassificationHead head;
        try {
            head = HeadFormat.fromBytes(files.get(m.headFile()), m.labels());
        } catch (HeadFormat.InvalidHeadException e) {
            throw new BundleException(dir + ": " + m.headFile() + ": " + e.getMessage(), e);
        }
        require(
                head.inputSize() == encoder.hiddenSize(),
                dir,
                m.headFile()
                        + " reads vectors of size "
                        + head.inputSize()
                        + " but the encoder produces "
                        + encoder.hiddenSize());
        return new ModelBundle(
                dir,
                m,
                head,
                null,
                openNgrams(dir, m, files),
                openConfidence(dir, m, files),
                manifestHash);
    }

    /** The n-gram model of a blended version, from its verified bytes; else null. */
    private static NgramClassifier openNgrams(Path dir, ModelManifest m, Map<String, byte[]> files)
            throws IOException {
        NgramBlend blend = m.ngrams();
        if (blend == null) {
            return null;
        }
        require(
                blend.file() != null && m.files().containsKey(blend.file()),
                dir,
                "n-gram file " + blend.file() + " is not listed");
        String problem = blend.problem();
        require(problem == null, dir, problem);
        NgramClassifier ngrams;
        try {
            ngrams = NgramFormat.fromBytes(files.get(blend.file()));
        } catch (BundleException e) {
            throw new BundleException(dir + ": " + blend.file() + ": " + e.getMessage(), e);
        }
        require(
                ngrams.labelCount() == m.labels().size(),
                dir,
                blend.file()
                        + " answers for "
                        + ngrams.labelCount()
                        + " labels but the manifest lists "
                        + m.labels().size());
        return ngrams;
    }

    /**
     * Checks a fine-tuned manifest against its encoder, then verifies and reads every file; the top
     * is checked against the encoder's shape in {@link #openTop}.
     */
    private static Map<String, byte[]> checkTopAndRead(
            Path dir, ModelManifest m, EncoderManifest encoder) throws IOException {
        FineTunedTop fineTune = m.fineTune();
        require(fineTune != null, dir, "a fine-tuned manifest (format version 2) needs fineTune");
        require(
                m.headFile() == null,
                dir,
                "a fine-tuned model keeps its head in " + fineTune.file() + ", not a head file");
        require(
                encoder.contentHash().equals(fineTune.trunkEncoderHash()),
                dir,
                "the top reads the trunk of encoder "
                        + fineTune.trunkEncoderHash()
                        + " but this model's encoder is "
                        + encoder.contentHash()
                        + "; retrain it on that encoder");
        layerShape(dir, encoder); // refused early if the encoder does not describe its layers
        require(
                encoder.transformerLayers() != null,
                dir,
                "encoder " + encoder.contentHash() + " names no transformerLayers");
        int encoderLayers = encoder.transformerLayers();
        require(
                fineTune.trunkLayers() >= 1
                        && fineTune.topLayers() >= 1
                        && fineTune.trunkLayers() + fineTune.topLayers() == encoderLayers,
                dir,
                "trunk of "
                        + fineTune.trunkLayers()
                        + " layers and top of "
                        + fineTune.topLayers()
                        + " do not split the encoder's "
                        + encoderLayers
                        + " layers (each at least 1, adding up to "
                        + encoderLayers
                        + ")");
        require(
                fineTune.file() != null && m.files().containsKey(fineTune.file()),
                dir,
                "top file " + fineTune.file() + " is not listed");
        return BundleFiles.readVerified(dir, m.files());
    }

    /** The version's confidence profile, if it lists one, checked against its labels. */
    private static ConfidenceProfile openConfidence(
            Path dir, ModelManifest m, Map<String, byte[]> files) throws BundleException {
        byte[] bytes = files.get(ConfidenceProfile.FILE_NAME);
        if (bytes == null) {
            return null;
        }
        ConfidenceProfile profile =
                Manifests.parse(bytes, dir, ConfidenceProfile.FILE_NAME, ConfidenceProfile.class);
        require(
                profile.labels() == m.labels().size(),
                dir,
                ConfidenceProfile.FILE_NAME
                        + " profiles "
                        + profile.labels()
                        + " labels, the model has "
                        + m.labels().size());
        return profile;
    }

    private static TopWeights openTop(
            Path dir, ModelManifest m, EncoderManifest encoder, Map<String, byte[]> files)
            throws IOException {
        FineTunedTop fineTune = m.fineTune();
        LayerShape encoderShape = layerShape(dir, encoder);
        TopWeights top;
        try {
            top = TopFormat.fromBytes(files.get(fineTune.file()));
        } catch (BundleException e) {
            throw new BundleException(dir + ": " + fineTune.file() + ": " + e.getMessage(), e);
        }
        TopSpec spec = top.spec();
        require(
                spec.firstLayer() == fineTune.trunkLayers()
                        && spec.layers() == fineTune.topLayers(),
                dir,
                fineTune.file()
                        + " holds layers "
                        + spec.firstLayer()
                        + ".."
                        + (spec.firstLayer() + spec.layers() - 1)
                        + " but the manifest splits at "
                        + fineTune.trunkLayers()
                        + " with "
                        + fineTune.topLayers()
                        + " top layers");
        require(
                spec.shape().equals(encoderShape),
                dir,
                fineTune.file()
                        + " has layers shaped "
                        + describe(spec.shape())
                        + " but the encoder's are "
                        + describe(encoderShape));
        require(
                spec.labels() == m.labels().size(),
                dir,
                fineTune.file()
                        + " has "
                        + spec.labels()
                        + " outputs but the manifest lists "
                        + m.labels().size()
                        + " labels");
        require(
                spec.pooling() == m.pooling(),
                dir,
                fineTune.file()
                        + " pools with "
                        + spec.pooling().id()
                        + " but the manifest says "
                        + m.pooling().id());
        require(
                spec.activation() == encoder.activation(),
                dir,
                fineTune.file()
                        + " computes "
                        + spec.activation().id()
                        + " but the encoder's layers use "
                        + encoder.activation().id());
        return top;
    }

    /**
     * The encoder's layer shape; an encoder manifest whose sizes do not fit together is refused.
     */
    static LayerShape layerShape(Path dir, EncoderManifest encoder) throws BundleException {
        try {
            return encoder.layerShape();
        } catch (IllegalArgumentException e) {
            throw new BundleException(
                    dir
                            + ": encoder "
                            + encoder.contentHash()
                            + " does not describe its layers, so no top can be checked against it: "
                            + e.getMessage(),
                    e);
        }
    }

    static String describe(LayerShape shape) {
        return "width "
                + shape.hiddenSize()
                + ", "
                + shape.heads()
                + " heads, feed-forward "
                + shape.intermediateSize();
    }

    public Path dir() {
        return dir;
    }

    public ModelManifest manifest() {
        return manifest;
    }

    public String name() {
        return manifest.name();
    }

    public long version() {
        return manifest.version();
    }

    /**
     * How sure the version was on its test set ({@link ConfidenceProfile}), which the job's drift
     * metrics compare live traffic against; empty for a version published without one.
     */
    public Optional<ConfidenceProfile> confidenceProfile() {
        return Optional.ofNullable(confidence);
    }

    /** Whether this version carries its own top layers and head ({@link #topWeights}). */
    public boolean isFineTuned() {
        return topWeights != null;
    }

    /**
     * The head of a head-only version. A fine-tuned version has none that could run on the
     * encoder's output: its head is part of {@link #topWeights}.
     *
     * @throws IllegalStateException for a fine-tuned version
     */
    public ClassificationHead head() {
        if (head == null) {
            throw new IllegalStateException(
                    this
                            + " is fine-tuned: its head reads its own top layers' output, not the"
                            + " encoder's; run topWeights() instead");
        }
        return head;
    }

    /**
     * The top layers, pooling and head of a fine-tuned version, verified against its encoder.
     *
     * @throws IllegalStateException for a head-only version
     */
    public TopWeights topWeights() {
        if (topWeights == null) {
            throw new IllegalStateException(this + " is head-only: it has no top layers");
        }
        return topWeights;
    }

    /** Whether this version blends an n-gram model into its answer ({@link #ngrams}). */
    public boolean isBlended() {
        return ngrams != null;
    }

    /**
     * The n-gram model a blended version combines with its head's or top's answer, with weight
     * {@code manifest().ngrams().encoderWeight()} on the latter (see {@link
     * NgramClassifier#blend}).
     *
     * @throws IllegalStateException for a version that blends nothing
     */
    public NgramClassifier ngrams() {
        if (ngrams == null) {
            throw new IllegalStateException(this + " blends no n-gram model");
        }
        return ngrams;
    }

    /** SHA-256 of {@code manifest.json}, the value a model announcement must carry. */
    public String manifestSha256() {
        return manifestSha256;
    }

    /** Refuses the bundle when its manifest's hash differs from an announced one. */
    public ModelBundle requireManifestSha256(String expected) throws BundleException {
        if (!manifestSha256.equals(expected)) {
            throw new BundleException(
                    dir
                            + ": manifest.json has SHA-256 "
                            + manifestSha256
                            + " but "
                            + expected
                            + " was announced");
        }
        return this;
    }

    @Override
    public String toString() {
        return manifest.name() + " v" + manifest.version();
    }
}
