package dev.sift.model.bundle;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads and writes {@code manifest.json} files as pretty-printed, key-sorted JSON. */
public final class Manifests {

    public static final String FILE_NAME = "manifest.json";

    private static final ObjectMapper JSON =
            new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
                    .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                    .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private static final ObjectMapper CANONICAL =
            JsonMapper.builder()
                    .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
                    .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
                    .build();

    private Manifests() {}

    public static byte[] toBytes(Object manifest) {
        try {
            return JSON.writeValueAsBytes(manifest);
        } catch (IOException e) {
            throw new IllegalStateException("Cannot serialise " + manifest, e);
        }
    }

    public static void write(Object manifest, Path dir) throws IOException {
        Files.write(dir.resolve(FILE_NAME), toBytes(manifest));
    }

    /**
     * The manifest as its SHA-256 pins it: every field this code reads, serialized with sorted keys
     * and no whitespace, so the pin does not depend on how a file was formatted, only on what it
     * says.
     */
    public static String canonicalSha256(Object manifest) {
        try {
            return Digests.sha256(CANONICAL.writeValueAsBytes(manifest));
        } catch (IOException e) {
            throw new IllegalStateException("Cannot serialise " + manifest, e);
        }
    }

    /** Parses manifest bytes already read (and hashed) from {@code dir}. */
    public static <T> T parse(byte[] bytes, Path dir, Class<T> type) throws BundleException {
        return parse(bytes, dir, FILE_NAME, type);
    }

    /** The bytes of {@code dir/manifest.json}, to hash and {@link #parse} the same ones. */
    public static byte[] readBytes(Path dir) throws BundleException {
        return readBytes(dir, FILE_NAME);
    }

    /** Reads {@code dir/manifest.json}; a missing or unparsable manifest is a bundle error. */
    public static <T> T read(Path dir, Class<T> type) throws BundleException {
        return read(dir, FILE_NAME, type);
    }

    /** Reads the JSON file {@code dir/fileName}. */
    public static <T> T read(Path dir, String fileName, Class<T> type) throws BundleException {
        return parse(readBytes(dir, fileName), dir, fileName, type);
    }

    private static byte[] readBytes(Path dir, String fileName) throws BundleException {
        try {
            return Files.readAllBytes(dir.resolve(fileName));
        } catch (NoSuchFileException e) {
            throw new BundleException(dir + ": no " + fileName, e);
        } catch (IOException e) {
            throw new BundleException(dir + ": cannot read " + fileName + ": " + e.getMessage(), e);
        }
    }

    /** Parses the JSON file {@code fileName} of {@code dir}, its bytes already read. */
    public static <T> T parse(byte[] bytes, Path dir, String fileName, Class<T> type)
            throws BundleException {
        try {
            return JSON.readValue(bytes, type);
        } catch (IOException e) {
            throw new BundleException(
                    dir
                            + ": "
                            + fileName
                            + " is not a valid "
                            + type.getSimpleName()
                            + ": "
                            + e.getMessage(),
                    e);
        }
    }
}
