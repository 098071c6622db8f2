package dev.sift.model.bundle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.stream.Stream;

/** Checks a bundle folder against the file list of its manifest. */
public final class BundleFiles {

    private BundleFiles() {}

    /**
     * Refuses the bundle unless every listed file exists with its recorded SHA-256 and no other
     * file is present: an added file is as much a tampering as a changed one. A listed name must
     * stay inside the folder, and no symbolic link inside it may point out of it: either would let
     * a manifest vouch for bytes the bundle does not own.
     */
    public static void verify(Path dir, Map<String, String> expected) throws IOException {
        verify(dir, expected, (name, file) -> Digests.sha256(file));
    }

    /**
     * As {@link #verify(Path, Map)}, returning every file's bytes by name: the bytes that were
     * hashed, so what the caller parses is what was verified, whatever a concurrent writer does to
     * the folder afterwards. For small files (heads, tops, n-gram models), not encoders.
     */
    public static Map<String, byte[]> readVerified(Path dir, Map<String, String> expected)
            throws IOException {
        Map<String, byte[]> contents = new HashMap<>();
        verify(
                dir,
                expected,
                (name, file) -> {
                    byte[] bytes = Files.readAllBytes(file);
                    contents.put(name, bytes);
                    return Digests.sha256(bytes);
                });
        return contents;
    }

    private static void verify(Path dir, Map<String, String> expected, Digests.FileDigest digest)
            throws IOException {
        if (expected == null || expected.isEmpty()) {
            throw new BundleException(dir + ": manifest lists no files");
        }
        for (String name : expected.keySet()) {
            Path resolved = dir.resolve(name).normalize();
            if (name.startsWith("/")
                    || name.contains("\\")
                    || !resolved.startsWith(dir.normalize())
                    || List.of(name.split("/")).contains("..")) {
                throw new BundleException(
                        dir + ": manifest names " + name + ", a path outside the bundle");
            }
        }
        requireNoEscapingLinks(dir);
        SortedMap<String, String> actual = Digests.fileTree(dir, digest, Manifests.FILE_NAME);
        for (Map.Entry<String, String> file : expected.entrySet()) {
            String actualHash = actual.get(file.getKey());
            if (actualHash == null) {
                throw new BundleException(dir + ": " + file.getKey() + " is missing");
            }
            if (!actualHash.equals(file.getValue())) {
                throw new BundleException(
                        String.format(
                                "%s: %s does not match its manifest (SHA-256 %s, expected %s)",
                                dir, file.getKey(), actualHash, file.getValue()));
            }
        }
        for (String name : actual.keySet()) {
            if (!expected.containsKey(name)) {
                throw new BundleException(dir + ": " + name + " is not listed in the manifest");
            }
        }
    }

    private static void requireNoEscapingLinks(Path dir) throws IOException {
        Path real = dir.toRealPath();
        try (Stream<Path> walk = Files.walk(real)) {
            for (Path path : (Iterable<Path>) walk::iterator) {
                if (Files.isSymbolicLink(path) && !path.toRealPath().startsWith(real)) {
                    throw new BundleException(
                            dir
                                    + ": "
                                    + real.relativize(path)
                                    + " is a symbolic link out of the bundle (to "
                                    + path.toRealPath()
                                    + ")");
                }
            }
        }
    }

    public static void require(boolean condition, Path dir, String problem) throws BundleException {
        if (!condition) {
            throw new BundleException(dir + ": " + problem);
        }
    }
}
