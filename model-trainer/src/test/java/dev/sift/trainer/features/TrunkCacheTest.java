package dev.sift.trainer.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.model.tokenize.Truncation;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trunk cache's file: what goes in comes back within half precision, after reopening too. */
class TrunkCacheTest {

    private static final int HIDDEN = 8;
    private static final String ENCODER = "e".repeat(64);

    /**
     * Half precision keeps 11 significant bits: a normal value comes back within 2^-11 of itself
     * relative (half an ulp), a value below 2^-14 within 2^-25 absolute.
     */
    private static void assertWithinHalfPrecision(float[] actual, float[] expected, int from) {
        for (int i = 0; i < actual.length; i++) {
            float e = expected[from + i];
            double allowed = Math.max(Math.abs(e) * 0x1p-11, 0x1p-25);
            assertThat((double) Math.abs(actual[i] - e))
                    .as("value %d", i)
                    .isLessThanOrEqualTo(allowed);
        }
    }

    @Test
    void statesComeBackWithinHalfPrecisionAfterReopening(@TempDir Path root) throws IOException {
        Random random = new Random(1);
        float[] states = new float[5 * HIDDEN];
        for (int i = 0; i < states.length; i++) {
            states[i] = (float) (random.nextGaussian() * 3);
        }
        String first = TrunkCache.key("first text");
        String second = TrunkCache.key("second text");
        try (TrunkCache cache = new TrunkCache(root, ENCODER, 64, Truncation.HEAD, 2, HIDDEN)) {
            cache.put(first, states, 0, 3);
            cache.put(second, states, 3 * HIDDEN, 2);
            float[] read = new float[3 * HIDDEN];
            cache.read(first, read, 0);
            assertWithinHalfPrecision(read, states, 0);
        }
        try (TrunkCache reopened = new TrunkCache(root, ENCODER, 64, Truncation.HEAD, 2, HIDDEN)) {
            assertThat(reopened.size()).isEqualTo(2);
            assertThat(reopened.length(first)).isEqualTo(3);
            assertThat(reopened.length(second)).isEqualTo(2);
            assertThat(reopened.length(TrunkCache.key("never seen"))).isEqualTo(-1);
            float[] read = new float[2 * HIDDEN + 1];
            reopened.read(second, read, 1);
            float[] shifted = new float[2 * HIDDEN];
            System.arraycopy(read, 1, shifted, 0, shifted.length);
            assertWithinHalfPrecision(shifted, states, 3 * HIDDEN);
            assertThat(read[0]).isZero();
        }
        // Each text costs its real positions in half precision, nothing more.
        long expectedBytes = 20 + 2 * (36 + 2L * HIDDEN) + 2L * HIDDEN * 3;
        assertThat(Files.size(root.resolve(ENCODER).resolve("len-64").resolve("trunk-2.f16")))
                .isEqualTo(expectedBytes);
    }

    @Test
    void aTornLastRecordIsCutAndLaterAppendsRead(@TempDir Path root) throws IOException {
        float[] states = new float[4 * HIDDEN];
        java.util.Arrays.fill(states, 0.5f);
        Path file;
        try (TrunkCache cache = new TrunkCache(root, ENCODER, 64, Truncation.HEAD, 3, HIDDEN)) {
            cache.put(TrunkCache.key("a"), states, 0, 2);
            cache.put(TrunkCache.key("b"), states, 0, 2);
            file = cache.file();
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 5); // a crash in the middle of the second record
        }
        try (TrunkCache cache = new TrunkCache(root, ENCODER, 64, Truncation.HEAD, 3, HIDDEN)) {
            assertThat(cache.size()).isEqualTo(1);
            assertThat(cache.length(TrunkCache.key("b"))).isEqualTo(-1);
            // Shorter than what is left of "b": nothing of "b" may linger after it.
            cache.put(TrunkCache.key("c"), states, 0, 1);
        }
        assertThat(Files.size(file)).isEqualTo(20 + 2 * 36 + 2L * HIDDEN * (2 + 1));
        try (TrunkCache cache = new TrunkCache(root, ENCODER, 64, Truncation.HEAD, 3, HIDDEN)) {
            assertThat(cache.size()).isEqualTo(2);
            float[] read = new float[HIDDEN];
            cache.read(TrunkCache.key("c"), read, 0);
            assertThat(read).containsOnly(0.5f);
        }
    }

    @Test
    void aCacheOfAnotherShapeIsRefusedWithWhatToDo(@TempDir Path root) throws IOException {
        try (TrunkCache cache = new TrunkCache(root, ENCODER, 64, Truncation.HEAD, 2, HIDDEN)) {
            cache.put(TrunkCache.key("a"), new float[HIDDEN], 0, 1);
        }
        Path file = root.resolve(ENCODER).resolve("len-64").resolve("trunk-2.f16");
        byte[] bytes = Files.readAllBytes(file);
        bytes[12] = 9; // the hidden size in the header
        Files.write(file, bytes);
        assertThatThrownBy(() -> new TrunkCache(root, ENCODER, 64, Truncation.HEAD, 2, HIDDEN))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("delete it");
    }
}
