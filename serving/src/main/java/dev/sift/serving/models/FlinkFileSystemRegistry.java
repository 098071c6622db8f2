package dev.sift.serving.models;

import dev.sift.model.bundle.BundleException;
import dev.sift.model.bundle.Directories;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.Manifests;
import dev.sift.model.bundle.ModelManifest;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.registry.RegistryReader;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * A registry read through Flink's {@link FileSystem}, so it may live wherever the cluster has a
 * filesystem plugin: {@code s3://bucket/registry}, {@code hdfs://namenode/registry}, ...
 *
 * <p>Nothing is trusted because of where it was read: a version is copied into a fresh local folder
 * and verified there by the same code that verifies a local registry ({@link ModelBundle#open}:
 * every file's SHA-256, no unlisted file, shapes), then the copy is deleted; the verified manifest
 * and head stay in memory. Encoders are large and TensorFlow loads them only from local files, so
 * each is copied once into {@code <cache>/_encoders/<contentHash>}: downloaded into a staging
 * folder, every file checked against the encoder's manifest, renamed into place. A cached encoder
 * is used as it is (its files are hashed again when the JVM first loads it).
 *
 * <pre>{@code
 * RegistryReader registry =
 *         new FlinkFileSystemRegistry(URI.create("s3://models/registry"), Path.of("/tmp/cache"));
 * ModelBundle v3 = registry.open("spam", 3);
 * }</pre>
 */
public final class FlinkFileSystemRegistry implements RegistryReader {

    /** A recorded announcement is a few hundred bytes; refuse to read anything much larger. */
    private static final int MAX_ANNOUNCEMENT_BYTES = 64 * 1024;

    private static final Pattern CONTENT_HASH = Pattern.compile("[0-9a-f]{64}");

    private final Path root;
    private final java.nio.file.Path cache;

    /**
     * @param root the registry, a URI with a scheme Flink has a filesystem for
     * @param cache a local folder for downloaded encoders and for staging downloads
     */
    public FlinkFileSystemRegistry(URI root, java.nio.file.Path cache) {
        this.root = new Path(root);
        this.cache = cache;
    }

    @Override
    public URI location() {
        return root.toUri();
    }

    @Override
    public URI versionUri(String name, long version) {
        return versionPath(name, version).toUri();
    }

    private Path versionPath(String name, long version) {
        return new Path(new Path(root, ModelRegistry.checkName(name)), Long.toString(version));
    }

    private Path encoderPath(String contentHash) {
        return new Path(new Path(root, ModelRegistry.ENCODERS), contentHash);
    }

    @Override
    public List<String> models() throws IOException {
        List<String> models = new ArrayList<>();
        for (FileStatus child : list(root)) {
            String name = child.getPath().getName();
            if (child.isDir() && ModelRegistry.isModelName(name)) {
                models.add(name);
            }
        }
        Collections.sort(models);
        return models;
    }

    @Override
    public List<Long> versions(String name) throws IOException {
        List<Long> versions = new ArrayList<>();
        for (FileStatus child : list(new Path(root, ModelRegistry.checkName(name)))) {
            String version = child.getPath().getName();
            if (child.isDir() && ModelRegistry.isVersionName(version)) {
                versions.add(Long.parseLong(version));
            }
        }
        Collections.sort(versions);
        return versions;
    }

    @Override
    public Optional<byte[]> recordedAnnouncement(String name) throws IOException {
        Path file =
                new Path(
                        new Path(root, ModelRegistry.checkName(name)),
                        ModelRegistry.ANNOUNCEMENT_FILE);
        FileSystem fs = file.getFileSystem();
        if (!fs.exists(file)) {
            return Optional.empty();
        }
        try (InputStream in = fs.open(file)) {
            byte[] bytes = in.readNBytes(MAX_ANNOUNCEMENT_BYTES + 1);
            if (bytes.length > MAX_ANNOUNCEMENT_BYTES) {
                throw new BundleException(
                        file + " is larger than " + MAX_ANNOUNCEMENT_BYTES + " bytes");
            }
            return Optional.of(bytes);
        }
    }

    /**
     * Copies the version to a local staging folder, verifies it there against its manifest and its
     * encoder's manifest (the encoder's files are not downloaded here: that is {@link #encoder}'s
     * slow work, done when the version loads), and deletes the copy.
     */
    @Override
    public ModelBundle open(String name, long version) throws IOException {
        Path remote = versionPath(name, version);
        if (!remote.getFileSystem().exists(remote)) {
            throw new BundleException(name + " v" + version + " is not in the registry at " + root);
        }
        java.nio.file.Path staging = stagingFolder(name + "-" + version + "-");
        try {
            download(remote, staging);
            ModelManifest manifest = Manifests.read(staging, ModelManifest.class);
            if (!name.equals(manifest.name()) || manifest.version() != version) {
                throw new BundleException(
                        remote + ": manifest says " + manifest.name() + " v" + manifest.version());
            }
            if (manifest.encoder() == null) {
                throw new BundleException(remote + ": manifest names no encoder");
            }
            return ModelBundle.open(staging, encoderManifest(manifest.encoder().contentHash()));
        } catch (BundleException e) {
            throw renamed(e, staging, remote);
        } finally {
            Directories.deleteRecursively(staging);
        }
    }

    /** The encoder's manifest: from the cache when the encoder is there, else downloaded alone. */
    private EncoderManifest encoderManifest(String contentHash) throws IOException {
        java.nio.file.Path cached = cachedEncoder(contentHash);
        if (Files.exists(cached.resolve(Manifests.FILE_NAME))) {
            return requireHash(EncoderBundle.open(cached), contentHash, cached).manifest();
        }
        Path remote = encoderPath(contentHash);
        java.nio.file.Path staging = stagingFolder("encoder-manifest-");
        try {
            copyFile(new Path(remote, Manifests.FILE_NAME), staging.resolve(Manifests.FILE_NAME));
            return requireHash(EncoderBundle.open(staging), contentHash, remote).manifest();
        } catch (FileNotFoundException e) {
            throw new BundleException(
                    "Encoder " + contentHash + " is not in the registry at " + root, e);
        } catch (BundleException e) {
            throw renamed(e, staging, remote);
        } finally {
            Directories.deleteRecursively(staging);
        }
    }

    /**
     * The encoder in local files: from the cache, or downloaded into it first. A download is
     * verified file by file before it is renamed into place, so the cache holds whole, verified
     * encoders only; subtasks of one TaskManager racing for the same encoder each download it and
     * the first rename wins.
     */
    @Override
    public EncoderBundle encoder(String contentHash) throws IOException {
        java.nio.file.Path cached = cachedEncoder(contentHash);
        if (Files.exists(cached.resolve(Manifests.FILE_NAME))) {
            return requireHash(EncoderBundle.open(cached), contentHash, cached);
        }
        Path remote = encoderPath(contentHash);
        if (!remote.getFileSystem().exists(remote)) {
            throw new BundleException(
                    "Encoder " + contentHash + " is not in the registry at " + root);
        }
        Files.createDirectories(cached.getParent());
        java.nio.file.Path staging =
                Files.createTempDirectory(cached.getParent(), ".download-" + contentHash + "-");
        try {
            download(remote, staging);
            requireHash(EncoderBundle.open(staging).verify(), contentHash, remote);
            try {
                Directories.moveAtomically(staging, cached);
            } catch (FileAlreadyExistsException raced) {
                // another subtask of this JVM finished the same download first: use its copy
            }
            return requireHash(EncoderBundle.open(cached), contentHash, cached);
        } catch (BundleException e) {
            throw renamed(e, staging, remote);
        } finally {
            Directories.deleteRecursively(staging);
        }
    }

    private java.nio.file.Path cachedEncoder(String contentHash) throws BundleException {
        if (contentHash == null || !CONTENT_HASH.matcher(contentHash).matches()) {
            throw new BundleException(
                    "'" + contentHash + "' is not an encoder content hash (64 hex digits)");
        }
        return cache.resolve(ModelRegistry.ENCODERS).resolve(contentHash);
    }

    private static EncoderBundle requireHash(EncoderBundle bundle, String hash, Object where)
            throws BundleException {
        if (!bundle.contentHash().equals(hash)) {
            throw new BundleException(where + ": manifest says " + bundle.contentHash());
        }
        return bundle;
    }

    private java.nio.file.Path stagingFolder(String prefix) throws IOException {
        java.nio.file.Path downloads = Files.createDirectories(cache.resolve(".downloads"));
        return Files.createTempDirectory(downloads, prefix);
    }

    /** Copies every file under {@code remote} into {@code local}, keeping relative paths. */
    private static void download(Path remote, java.nio.file.Path local) throws IOException {
        for (FileStatus child : list(remote)) {
            String name = child.getPath().getName();
            // Object stores allow keys no folder can hold; such a name must not climb out.
            if (name.isEmpty()
                    || name.equals(".")
                    || name.equals("..")
                    || name.contains("/")
                    || name.contains("\\")) {
                throw new BundleException(remote + ": holds an entry named '" + name + "'");
            }
            java.nio.file.Path target = local.resolve(name);
            if (child.isDir()) {
                Files.createDirectory(target);
                download(child.getPath(), target);
            } else {
                copyFile(child.getPath(), target);
            }
        }
    }

    private static void copyFile(Path remote, java.nio.file.Path local) throws IOException {
        try (InputStream in = remote.getFileSystem().open(remote)) {
            Files.copy(in, local);
        }
    }

    private static FileStatus[] list(Path dir) throws IOException {
        FileSystem fs = dir.getFileSystem();
        try {
            FileStatus[] children = fs.listStatus(dir);
            // Flink's local filesystem answers null for a missing folder; object stores throw.
            return children == null ? new FileStatus[0] : children;
        } catch (FileNotFoundException e) {
            return new FileStatus[0];
        }
    }

    /** A verification message names the remote location, not the local staging copy. */
    private static BundleException renamed(
            BundleException e, java.nio.file.Path staging, Path remote) {
        String message = String.valueOf(e.getMessage());
        return message.contains(staging.toString())
                ? new BundleException(message.replace(staging.toString(), remote.toString()), e)
                : e;
    }

    @Override
    public String toString() {
        return root.toString();
    }
}
