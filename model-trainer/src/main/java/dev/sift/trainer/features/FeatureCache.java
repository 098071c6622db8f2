package dev.sift.trainer.features;

import dev.sift.model.bundle.Digests;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.tokenize.Truncation;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * Encoder outputs on disk, so re-training on the same data never runs the encoder again. One file
 * per encoder content hash, max length and pooling: {@code
 * <root>/<encoderHash>/len-<n>/<pooling>.bin}, an append-only sequence of records {@code
 * sha256(input) (32 bytes) · d float32 (little-endian)}. A torn last record (a crash mid-append) is
 * ignored on load.
 */
final class FeatureCache {

    private final Path file;
    private final int dimension;
    private final Map<String, float[]> vectors = new HashMap<>();

    FeatureCache(
            Path root,
            String encoderHash,
            int maxSeqLen,
            Truncation truncation,
            Pooling pooling,
            int dimension)
            throws IOException {
        this.file =
                root.resolve(encoderHash)
                        .resolve(lengthDirectory(maxSeqLen, truncation))
                        .resolve(pooling.id() + ".bin");
        this.dimension = dimension;
        load();
    }

    /**
     * The folder of one length and truncation under an encoder's: {@code len-128} for the head (as
     * before truncations existed), {@code len-128-head-tail-64} otherwise.
     */
    static String lengthDirectory(int maxSeqLen, Truncation truncation) {
        String length = "len-" + maxSeqLen;
        return truncation.isHead() ? length : length + "-" + truncation.id().replace(':', '-');
    }

    static String key(String input) {
        return Digests.sha256(input);
    }

    float[] get(String key) {
        return vectors.get(key);
    }

    int size() {
        return vectors.size();
    }

    /** Appends and remembers the given vectors. */
    void putAll(Map<String, float[]> entries) throws IOException {
        Files.createDirectories(file.getParent());
        ByteBuffer record = ByteBuffer.allocate(32 + 4 * dimension).order(ByteOrder.LITTLE_ENDIAN);
        try (OutputStream out =
                new BufferedOutputStream(
                        Files.newOutputStream(
                                file, StandardOpenOption.CREATE, StandardOpenOption.APPEND))) {
            for (Map.Entry<String, float[]> entry : entries.entrySet()) {
                record.clear();
                record.put(HexFormat.of().parseHex(entry.getKey()));
                record.asFloatBuffer().put(entry.getValue());
                out.write(record.array());
                vectors.put(entry.getKey(), entry.getValue());
            }
        }
    }

    private void load() throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        byte[] record = new byte[32 + 4 * dimension];
        try (InputStream in = Files.newInputStream(file);
                DataInputStream data = new DataInputStream(in)) {
            while (true) {
                try {
                    data.readFully(record);
                } catch (EOFException tornOrEnd) {
                    return;
                }
                ByteBuffer buffer = ByteBuffer.wrap(record).order(ByteOrder.LITTLE_ENDIAN);
                String key = HexFormat.of().formatHex(record, 0, 32);
                float[] vector = new float[dimension];
                buffer.position(32);
                buffer.asFloatBuffer().get(vector);
                vectors.put(key, vector);
            }
        }
    }
}
