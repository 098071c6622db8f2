package dev.sift.model.registry;

import static dev.sift.model.bundle.BundleFiles.require;

import dev.sift.model.bundle.BundleException;
import dev.sift.model.bundle.BundleFiles;
import dev.sift.model.bundle.Digests;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.Manifests;
import dev.sift.model.bundle.ModelManifest;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.head.HeadFormat;
import java.io.IOException;
import java.nio.file.Path;

/**
 * One verified model version: its manifest, its head, and the hash of its manifest (which model
 * announcements carry). Only {@link #open} makes one, and it refuses anything that does not check
 * out, naming the file or field.
 */
public final class ModelBundle {

    private final Path dir;
    private final ModelManifest manifest;
    private final ClassificationHead head;
    private final String manifestSha256;

    private ModelBundle(
            Path dir, ModelManifest manifest, ClassificationHead head, String manifestSha256) {
        this.dir = dir;
        this.manifest = manifest;
        this.head = head;
        this.manifestSha256 = manifestSha256;
    }

    /**
     * Verifies {@code dir} against its manifest and the encoder it names: every file's SHA-256, no
     * unlisted file, the head's shape against the encoder's hidden size and the label count, and
     * the truncation length against the encoder's maximum.
     */
    public static ModelBundle open(Path dir, EncoderManifest encoder) throws IOException {
        ModelManifest m = Manifests.read(dir, ModelManifest.class);
        require(ModelManifest.KIND.equals(m.kind()), dir, "manifest kind is not 'model'");
        require(
                m.formatVersion() == ModelManifest.FORMAT_VERSION,
                dir,
                "model format version " + m.formatVersion() + " is not supported");
        require(m.name() != null && m.version() > 0, dir, "manifest lacks name or version");
        require(m.labels() != null && m.labels().size() >= 2, dir, "a model needs 2+ labels");
        require(m.pooling() != null, dir, "manifest names no pooling");
        require(m.encoder() != null, dir, "manifest names no encoder");
        require(
                m.encoder().contentHash().equals(encoder.contentHash()),
                dir,
                "names encoder "
                        + m.encoder().contentHash()
                        + " but was given "
                        + encoder.contentHash());
        require(
                m.maxSeqLen() >= 3 && m.maxSeqLen() <= encoder.maxSeqLen(),
                dir,
                "maxSeqLen " + m.maxSeqLen() + " is outside 3.." + encoder.maxSeqLen());
        require(
                m.files() != null && m.files().containsKey(m.headFile()),
                dir,
                "head file " + m.headFile() + " is not listed");
        BundleFiles.verify(dir, m.files());

        ClassificationHead head;
        try {
            head = HeadFormat.read(dir.resolve(m.headFile()), m.labels());
        } catch (HeadFormat.InvalidHeadException e) {
            throw new BundleException(dir + ": " + e.getMessage(), e);
        }
        require(
                head.inputSize() == encoder.hiddenSize(),
                dir,
                m.headFile()
                        + " reads vectors of size "
                        + head.inputSize()
                        + " but the encoder produces "
                        + encoder.hiddenSize());
        String manifestHash = Digests.sha256(dir.resolve(Manifests.FILE_NAME));
        return new ModelBundle(dir, m, head, manifestHash);
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

    public ClassificationHead head() {
        return head;
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
