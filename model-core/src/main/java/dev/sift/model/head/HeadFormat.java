package dev.sift.model.head;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The on-disk form of a {@link ClassificationHead}, {@code head.bin}. Little-endian throughout:
 *
 * <pre>
 * offset        size      field
 * 0             8         magic, ASCII "SIFTHEAD"
 * 8             4         format version, int32 = 1
 * 12            4         d, int32: input vector size
 * 16            4         k, int32: number of labels
 * 20            4·d·k     W, float32, row-major (W[i][j] at 20 + 4·(i·k + j))
 * 20 + 4·d·k    4·k       b, float32
 * </pre>
 *
 * Labels are not in the file; they live in the model manifest, and {@link #read} checks that the
 * file's {@code k} matches them. The file length must be exactly {@code 20 + 4·k·(d + 1)}.
 */
public final class HeadFormat {

    public static final int VERSION = 1;
    private static final byte[] MAGIC = "SIFTHEAD".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER_BYTES = 20;

    private HeadFormat() {}

    public static byte[] toBytes(ClassificationHead head) {
        int d = head.inputSize();
        int k = head.labelCount();
        ByteBuffer buffer =
                ByteBuffer.allocate(HEADER_BYTES + 4 * k * (d + 1)).order(ByteOrder.LITTLE_ENDIAN);
        buffer.put(MAGIC).putInt(VERSION).putInt(d).putInt(k);
        buffer.asFloatBuffer().put(head.weights()).put(head.bias());
        return buffer.array();
    }

    public static void write(ClassificationHead head, Path file) throws IOException {
        Files.write(file, toBytes(head));
    }

    public static ClassificationHead read(Path file, List<String> labels) throws IOException {
        try {
            return fromBytes(Files.readAllBytes(file), labels);
        } catch (InvalidHeadException e) {
            throw new InvalidHeadException(file.getFileName() + ": " + e.getMessage());
        }
    }

    public static ClassificationHead fromBytes(byte[] bytes, List<String> labels)
            throws InvalidHeadException {
        if (bytes.length < HEADER_BYTES) {
            throw new InvalidHeadException("shorter than the 20-byte header");
        }
        ByteBuffer buffer = checkedHeader(bytes);
        int d = buffer.getInt(12);
        int k = buffer.getInt(16);
        if (d <= 0 || k < 2) {
            throw new InvalidHeadException("bad shape d=" + d + ", k=" + k);
        }
        long expected = HEADER_BYTES + 4L * k * (d + 1L);
        if (bytes.length != expected) {
            throw new InvalidHeadException(
                    "is "
                            + bytes.length
                            + " bytes, but d="
                            + d
                            + ", k="
                            + k
                            + " needs exactly "
                            + expected);
        }
        if (k != labels.size()) {
            throw new InvalidHeadException(
                    "has " + k + " outputs but the manifest lists " + labels.size() + " labels");
        }
        float[] weights = new float[d * k];
        float[] bias = new float[k];
        buffer.position(HEADER_BYTES);
        var floats = buffer.asFloatBuffer();
        floats.get(weights).get(bias);
        try {
            return new ClassificationHead(weights, bias, labels);
        } catch (IllegalArgumentException e) {
            throw new InvalidHeadException(e.getMessage());
        }
    }

    private static ByteBuffer checkedHeader(byte[] bytes) throws InvalidHeadException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) {
                throw new InvalidHeadException("not a Sift head (magic \"SIFTHEAD\" missing)");
            }
        }
        int version = buffer.getInt(8);
        if (version != VERSION) {
            throw new InvalidHeadException(
                    "format version "
                            + version
                            + " is not supported (this build reads "
                            + VERSION
                            + ")");
        }
        return buffer;
    }

    /** A head file that does not match its documented format or its manifest. */
    public static final class InvalidHeadException extends IOException {
        private static final long serialVersionUID = 1L;

        public InvalidHeadException(String message) {
            super(message);
        }
    }
}
