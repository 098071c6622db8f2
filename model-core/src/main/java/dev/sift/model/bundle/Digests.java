package dev.sift.model.bundle;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/** SHA-256 of files, byte arrays and whole bundle folders, as lower-case hex. */
public final class Digests {

    private static final HexFormat HEX = HexFormat.of();

    private Digests() {}

    public static String sha256(byte[] bytes) {
        return HEX.formatHex(newDigest().digest(bytes));
    }

    public static String sha256(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    public static String sha256(Path file) throws IOException {
        MessageDigest digest = newDigest();
        byte[] buffer = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HEX.formatHex(digest.digest());
    }

    /**
     * The SHA-256 of every regular file under {@code root}, keyed by its path relative to root with
     * '/' separators, in sorted order. {@code excluded} names relative paths to leave out (the
     * manifest itself).
     */
    public static SortedMap<String, String> fileTree(Path root, String... excluded)
            throws IOException {
        return fileTree(root, (name, file) -> sha256(file), excluded);
    }

    /** How {@link #fileTree(Path, FileDigest, String...)} hashes one file. */
    @FunctionalInterface
    public interface FileDigest {
        String of(String relativeName, Path file) throws IOException;
    }

    /** As {@link #fileTree(Path, String...)}, each file hashed by {@code digest}. */
    public static SortedMap<String, String> fileTree(
            Path root, FileDigest digest, String... excluded) throws IOException {
        SortedMap<String, String> files = new TreeMap<>();
        Set<String> skip = Set.of(excluded);
        // A bundle folder may itself be a symbolic link (shared volumes, test fixtures); walk
        // what it points to, or the walk would see the link and nothing inside.
        Path real = root.toRealPath();
        try (Stream<Path> walk = Files.walk(real)) {
            for (Path file : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                String relative = relativeName(real, file);
                if (!skip.contains(relative)) {
                    files.put(relative, digest.of(relative, file));
                }
            }
        }
        return files;
    }

    /**
     * One hash for a set of files: SHA-256 over "path NUL sha256 LF" lines in path order. Stable
     * across machines and file systems, and changes when any file, name or membership changes.
     */
    public static String contentHash(Map<String, String> files) {
        MessageDigest digest = newDigest();
        new TreeMap<>(files)
                .forEach(
                        (path, sha) ->
                                digest.update(
                                        (path + '\0' + sha + '\n')
                                                .getBytes(StandardCharsets.UTF_8)));
        return HEX.formatHex(digest.digest());
    }

    static String relativeName(Path root, Path file) {
        return root.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("Every Java runtime provides SHA-256", e);
        }
    }
}
