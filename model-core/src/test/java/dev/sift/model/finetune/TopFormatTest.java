package dev.sift.model.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.model.bundle.Activation;
import dev.sift.model.bundle.BundleException;
import dev.sift.model.bundle.LayerShape;
import dev.sift.model.bundle.Pooling;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TopFormatTest {

    /** A small geometry: every code path of BERT-base's, in a few kilobytes. */
    static final LayerShape SMALL = new LayerShape(16, 2, 24);

    private static final TopSpec SPEC = new TopSpec(SMALL, 2, 2, Pooling.POOLER, 2);

    @Test
    void roundTripsEveryValueBitForBit(@TempDir Path dir) throws Exception {
        TopWeights weights = RandomTopWeights.of(SPEC, 7);
        float[] head = weights.get(TopSpec.HEAD_BIAS);
        head[0] = -0.0f;
        head[1] = Float.intBitsToFloat(0x7fc00123); // a NaN with a payload
        Path file = dir.resolve("top.bin");

        TopFormat.write(weights, file);
        TopWeights read = TopFormat.read(file);

        assertThat(read.spec()).isEqualTo(SPEC);
        assertThat(read.values().keySet()).containsExactlyElementsOf(SPEC.parameters().keySet());
        for (String name : SPEC.parameters().keySet()) {
            assertThat(rawBits(read.get(name))).as(name).isEqualTo(rawBits(weights.get(name)));
        }
    }

    @Test
    void refusesAnotherFileOrVersion() {
        byte[] bytes = TopFormat.toBytes(RandomTopWeights.of(SPEC, 1));
        byte[] notOurs = bytes.clone();
        notOurs[0] = 'X';
        assertRefused(notOurs, "not a Sift top");

        byte[] newer = bytes.clone();
        ByteBuffer.wrap(newer).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 3);
        assertRefused(newer, "format version 3 is not supported (this build reads 1 and 2)");
    }

    @Test
    void aTopWithTheExactGeluIsVersionTwoAndBertsStaysVersionOne() throws Exception {
        TopSpec erf = new TopSpec(SMALL, 2, 2, Pooling.MEAN, 2, Activation.GELU_ERF);
        byte[] bytes = TopFormat.toBytes(RandomTopWeights.of(erf, 3));
        assertThat(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt(8)).isEqualTo(2);
        assertThat(TopFormat.fromBytes(bytes).spec()).isEqualTo(erf);

        byte[] bert = TopFormat.toBytes(RandomTopWeights.of(SPEC, 3));
        assertThat(ByteBuffer.wrap(bert).order(ByteOrder.LITTLE_ENDIAN).getInt(8)).isEqualTo(1);
        assertThat(TopFormat.fromBytes(bert).spec().activation()).isEqualTo(Activation.GELU_TANH);
    }

    @Test
    void refusesATruncatedFileAndTrailingBytes() {
        byte[] bytes = TopFormat.toBytes(RandomTopWeights.of(SPEC, 1));
        assertRefused(
                Arrays.copyOf(bytes, bytes.length - 1), "ends inside the values of head/bias");
        assertRefused(Arrays.copyOf(bytes, 30), "ends early");
        assertRefused(Arrays.copyOf(bytes, bytes.length + 4), "4 bytes follow the last parameter");
    }

    @Test
    void refusesAnAbsurdSizeBeforeAllocatingIt() {
        byte[] bytes = TopFormat.toBytes(RandomTopWeights.of(SPEC, 1));
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(12, 1 << 30);
        assertRefused(bytes, "hidden size 1073741824 is outside 1..8192");
    }

    @Test
    void refusesAShapeTheSpecDoesNotHave() {
        byte[] bytes = TopFormat.toBytes(RandomTopWeights.of(SPEC, 1));
        // the label count follows the pooling id "pooler"; 3 labels make the head [16, 3]
        int labelsAt = 8 + 4 + 12 + 8 + 4 + "pooler".length();
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(labelsAt, 3);
        assertRefused(bytes, "head/kernel has shape [16, 2] but the spec needs [16, 3]");
    }

    @Test
    void refusesAnUnknownAndARepeatedParameter() {
        byte[] bytes = TopFormat.toBytes(RandomTopWeights.of(SPEC, 1));
        assertRefused(
                rename(bytes, "head/bias", "head/bi4s"),
                "parameter head/bi4s is not part of the top");
        assertRefused(
                rename(
                        bytes,
                        "encoder/layer_3/attention/self/query/kernel",
                        "encoder/layer_2/attention/self/query/kernel"),
                "parameter encoder/layer_2/attention/self/query/kernel appears twice");
    }

    @Test
    void readNamesTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("top.bin");
        Files.write(file, new byte[] {1, 2, 3});
        assertThatThrownBy(() -> TopFormat.read(file))
                .isInstanceOf(BundleException.class)
                .hasMessage("top.bin: is too short to be a Sift top");
    }

    private static void assertRefused(byte[] bytes, String message) {
        assertThatThrownBy(() -> TopFormat.fromBytes(bytes))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining(message);
    }

    private static byte[] rename(byte[] bytes, String from, String to) {
        byte[] target = from.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i + target.length <= bytes.length; i++) {
            if (Arrays.equals(bytes, i, i + target.length, target, 0, target.length)) {
                byte[] renamed = bytes.clone();
                byte[] replacement = to.getBytes(StandardCharsets.UTF_8);
                System.arraycopy(replacement, 0, renamed, i, replacement.length);
                return renamed;
            }
        }
        throw new AssertionError(from + " is not in the file");
    }

    private static int[] rawBits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }
}
