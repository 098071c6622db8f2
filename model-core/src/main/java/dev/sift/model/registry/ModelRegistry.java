package dev.sift.model.registry;

import dev.sift.model.bundle.BundleException;
import dev.sift.model.bundle.Digests;
import dev.sift.model.bundle.Directories;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderEngine;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.EncoderRef;
import dev.sift.model.bundle.FineTunedTop;
import dev.sift.model.bundle.LayerShape;
import dev.sift.model.bundle.Manifests;
import dev.sift.model.bundle.ModelManifest;
import dev.sift.model.bundle.NgramBlend;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.finetune.TopFormat;
import dev.sift.model.finetune.TopSpec;
import dev.sift.model.head.HeadFormat;
import dev.sift.model.ngram.NgramFormat;
import java.io.IOException;
import java.net.URI;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A folder of versioned models: {@code <root>/<name>/<version>/manifest.json} plus files, and the
 * encoders they share under {@code <root>/_encoders/<contentHash>/}.
 *
 * <p>Versions are positive integers that only grow. {@link #publish} writes a version into a hidden
 * staging folder and renames it into place, so a reader sees a complete version or none; two
 * publishers racing for the same number both succeed with different numbers.
 *
 * <pre>{@code
 * ModelRegistry registry = ModelRegistry.at(Path.of("registry"));
 * ModelBundle v = registry.publish(draft);
 * ModelBundle latest = registry.openLatest("spam").orElseThrow();
 * }</pre>
 */
public final class ModelRegistry implements RegistryReader {

    public static final String ENCODERS = "_encoders";

    /**
     * Per model, the last announcement a publisher made for it (its wire bytes, signature
     * included): what a job started without state serves. See {@link #recordAnnouncement}.
     */
    public static final String ANNOUNCEMENT_FILE = "announcement.bin";

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,18}");

    private final Path root;

    private ModelRegistry(Path root) {
        this.root = root;
    }

    public static ModelRegistry at(Path root) {
        return new ModelRegistry(root);
    }

    public Path root() {
        return root;
    }

    @Override
    public URI location() {
        return root.toAbsolutePath().normalize().toUri();
    }

    @Override
    public URI versionUri(String name, long version) {
        return versionDir(name, version).toAbsolutePath().normalize().toUri();
    }

    /** Whether {@code name} is a valid model name (see {@link #checkName}). */
    public static boolean isModelName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    /** Whether {@code name} is a version folder's name: a positive integer, no leading zero. */
    public static boolean isVersionName(String name) {
        return name != null && VERSION.matcher(name).matches();
    }

    public Path encodersDir() {
        return root.resolve(ENCODERS);
    }

    /** Checks a model name: lower-case letters, digits, '.', '_', '-'; at most 64 characters. */
    public static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    "Model name '"
                            + name
                            + "' must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting"
                            + " with a letter or digit");
        }
        return name;
    }

    @Override
    public List<String> models() throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> children = Files.list(root)) {
            return children.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .filter(n -> NAME.matcher(n).matches())
                    .sorted()
                    .toList();
        }
    }

    /** Published versions of {@code name}, ascending. */
    @Override
    public List<Long> versions(String name) throws IOException {
        Path dir = root.resolve(checkName(name));
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Long> versions = new ArrayList<>();
        try (Stream<Path> children = Files.list(dir)) {
            children.map(p -> p.getFileName().toString())
                    .filter(n -> VERSION.matcher(n).matches())
                    .forEach(n -> versions.add(Long.parseLong(n)));
        }
        Collections.sort(versions);
        return versions;
    }

    public OptionalLong latestVersion(String name) throws IOException {
        List<Long> versions = versions(name);
        return versions.isEmpty()
                ? OptionalLong.empty()
                : OptionalLong.of(versions.get(versions.size() - 1));
    }

    public Path versionDir(String name, long version) {
        return root.resolve(checkName(name)).resolve(Long.toString(version));
    }

    /** Every encoder installed in this registry (manifests read, files not re-hashed). */
    public List<EncoderBundle> encoders() throws IOException {
        Path root = encodersDir();
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<EncoderBundle> encoders = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path dir : dirs.sorted().toList()) {
                if (Files.exists(dir.resolve(Manifests.FILE_NAME))) {
                    encoders.add(EncoderBundle.open(dir));
                }
            }
        }
        return encoders;
    }

    @Override
    public EncoderBundle encoder(String contentHash) throws BundleException {
        Path dir = encodersDir().resolve(contentHash);
        if (!Files.isDirectory(dir)) {
            throw new BundleException(
                    "Encoder " + contentHash + " is not in the registry at " + encodersDir());
        }
        EncoderBundle bundle = EncoderBundle.open(dir);
        if (!bundle.contentHash().equals(contentHash)) {
            throw new BundleException(dir + ": manifest says " + bundle.contentHash());
        }
        return bundle;
    }

    /** Opens and verifies one version (its encoder's manifest is read, not re-hashed). */
    @Override
    public ModelBundle open(String name, long version) throws IOException {
        Path dir = versionDir(name, version);
        if (!Files.isDirectory(dir)) {
            throw new BundleException(name + " v" + version + " is not in the registry at " + root);
        }
        ModelManifest manifest = Manifests.read(dir, ModelManifest.class);
        if (!name.equals(manifest.name()) || manifest.version() != version) {
            throw new BundleException(
                    dir + ": manifest says " + manifest.name() + " v" + manifest.version());
        }
        return ModelBundle.open(dir, encoder(manifest.encoder().contentHash()).manifest());
    }

    public Optional<ModelBundle> openLatest(String name) throws IOException {
        OptionalLong latest = latestVersion(name);
        return latest.isPresent() ? Optional.of(open(name, latest.getAsLong())) : Optional.empty();
    }

    /**
     * Records {@code announcement}, the encoded announcement of a model, as the one a job started
     * without state obeys. The registry does not read it: the job decodes and verifies it like any
     * announcement from Kafka (signature, order, bundle), so the registry's folder is no more
     * trusted than the topic. Replaced atomically, so a reader sees the old record or the new one.
     */
    public void recordAnnouncement(String name, byte[] announcement) throws IOException {
        Path modelDir = Files.createDirectories(root.resolve(checkName(name)));
        Path temporary = Files.createTempFile(modelDir, ".announcement-", ".tmp");
        try {
            Files.write(temporary, announcement);
            Files.move(
                    temporary,
                    modelDir.resolve(ANNOUNCEMENT_FILE),
                    StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /**
     * The announcement last recorded for {@code name}, if any (see {@link #recordAnnouncement}).
     */
    @Override
    public Optional<byte[]> recordedAnnouncement(String name) throws IOException {
        Path file = root.resolve(checkName(name)).resolve(ANNOUNCEMENT_FILE);
        return Files.isRegularFile(file) ? Optional.of(Files.readAllBytes(file)) : Optional.empty();
    }

    /**
     * Publishes {@code draft} as the next version of its model and returns it, verified. A
     * fine-tuned draft becomes a format version 2 bundle with {@code top.bin} and no head file.
     */
    public ModelBundle publish(ModelDraft draft) throws IOException {
        String name = checkName(draft.name());
        EncoderBundle encoder = encoder(draft.encoderHash());
        checkFits(draft, encoder.manifest());
        Path modelDir = Files.createDirectories(root.resolve(name));
        Path staging = Files.createTempDirectory(modelDir, ".staging-");
        try {
            FineTunedTop fineTune = null;
            if (draft.isFineTuned()) {
                TopSpec spec = draft.top().weights().spec();
                if (draft.top().int8()
                        && encoder.manifest().runtime() != EncoderEngine.ONNX_RUNTIME) {
                    throw new IllegalArgumentException(
                            "An int8 top is served on ONNX Runtime; encoder "
                                    + encoder.manifest().name()
                                    + " runs on "
                                    + encoder.manifest().runtime().id()
                                    + ": publish it in float32");
                }
                fineTune =
                        new FineTunedTop(
                                FineTunedTop.TOP_FILE,
                                spec.firstLayer(),
                                spec.layers(),
                                encoder.contentHash(),
                                draft.top().int8() ? FineTunedTop.INT8 : null);
                TopFormat.write(draft.top().weights(), staging.resolve(fineTune.file()));
            } else {
                HeadFormat.write(draft.head(), staging.resolve(ModelManifest.HEAD_FILE));
            }
            NgramBlend ngrams = null;
            if (draft.blend() != null) {
                ngrams =
                        new NgramBlend(
                                NgramFormat.FILE_NAME,
                                draft.blend().encoderWeight(),
                                draft.blend().cascadeThreshold());
                NgramFormat.write(draft.blend().model(), staging.resolve(ngrams.file()));
            }
            for (var attachment : draft.attachments().entrySet()) {
                Files.copy(attachment.getValue(), staging.resolve(attachment.getKey()));
            }
            var files = Digests.fileTree(staging, Manifests.FILE_NAME);
            ModelManifest manifest =
                    new ModelManifest(
                            ModelManifest.KIND,
                            ModelManifest.formatVersionFor(fineTune, draft.truncation(), ngrams),
                            name,
                            0,
                            EncoderRef.of(encoder.manifest()),
                            draft.pooling(),
                            draft.maxSeqLen(),
                            draft.labels(),
                            draft.isFineTuned() ? null : ModelManifest.HEAD_FILE,
                            files,
                            new TreeMap<>(draft.metrics()),
                            draft.parentVersion(),
                            draft.trainingDataHash(),
                            new TreeMap<>(draft.training()),
                            Instant.now().toString(),
                            fineTune,
                            draft.truncation().isHead() ? null : draft.truncation(),
                            ngrams);
            while (true) {
                long version = latestVersion(name).orElse(0) + 1;
                Manifests.write(manifest.withVersion(version), staging);
                try {
                    Directories.moveAtomically(staging, versionDir(name, version));
                    return open(name, version);
                } catch (FileAlreadyExistsException raced) {
                    // another publisher took this number first; take the next one
                }
            }
        } finally {
            Directories.deleteRecursively(staging);
        }
    }

    /** Refuses, before anything is written, a head or top that cannot run on {@code encoder}. */
    private static void checkFits(ModelDraft draft, EncoderManifest encoder) {
        int width =
                draft.isFineTuned()
                        ? draft.top().weights().spec().shape().hiddenSize()
                        : draft.head().inputSize();
        if (width != encoder.hiddenSize()) {
            throw new IllegalArgumentException(
                    (draft.isFineTuned() ? "The top's layers are" : "The head reads vectors of")
                            + " size "
                            + width
                            + " but encoder "
                            + encoder.name()
                            + " produces "
                            + encoder.hiddenSize());
        }
        if (!encoder.availablePoolings().contains(draft.pooling())) {
            throw new IllegalArgumentException(
                    "The model pools by "
                            + draft.pooling().id()
                            + " but encoder "
                            + encoder.name()
                            + " computes only "
                            + encoder.availablePoolings().stream().map(Pooling::id).toList());
        }
        if (draft.isFineTuned()) {
            TopSpec spec = draft.top().weights().spec();
            LayerShape shape = encoder.layerShape();
            if (!spec.shape().equals(shape)) {
                throw new IllegalArgumentException(
                        "The top's layers are shaped "
                                + ModelBundle.describe(spec.shape())
                                + " but encoder "
                                + encoder.name()
                                + "'s are "
                                + ModelBundle.describe(shape));
            }
            if (spec.activation() != encoder.activation()) {
                throw new IllegalArgumentException(
                        "The top's layers use "
                                + spec.activation().id()
                                + " but encoder "
                                + encoder.name()
                                + "'s use "
                                + encoder.activation().id());
            }
            int layers = encoder.transformerLayers();
            if (spec.firstLayer() + spec.layers() != layers) {
                throw new IllegalArgumentException(
                        "The top holds layers "
                                + spec.firstLayer()
                                + ".."
                                + (spec.firstLayer() + spec.layers() - 1)
                                + " but encoder "
                                + encoder.name()
                                + " has layers 0.."
                                + (layers - 1)
                                + ": a top must end at the encoder's last layer");
            }
        }
    }
}
