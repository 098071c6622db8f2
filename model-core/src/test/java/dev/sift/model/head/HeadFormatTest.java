package dev.sift.model.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeadFormatTest {

    private static final List<String> LABELS = List.of("ham", "spam");
    private final ClassificationHead head =
            new ClassificationHead(new float[] {1, 2, 3, 4, 5, 6}, new float[] {-1, 1}, LABELS);

    @Test
    void roundTrips() throws Exception {
        ClassificationHead back = HeadFormat.fromBytes(HeadFormat.toBytes(head), LABELS);

        assertThat(back.weights()).containsExactly(head.weights());
        assertThat(back.bias()).containsExactly(head.bias());
        assertThat(back.labels()).isEqualTo(LABELS);
    }

    @Test
    void layoutIsTheDocumentedLittleEndianOne() {
        ByteBuffer bytes = ByteBuffer.wrap(HeadFormat.toBytes(head)).order(ByteOrder.LITTLE_ENDIAN);

        assertThat(new String(bytes.array(), 0, 8, java.nio.charset.StandardCharsets.US_ASCII))
                .isEqualTo("SIFTHEAD");
        assertThat(bytes.getInt(8)).isEqualTo(1); // format version
        assertThat(bytes.getInt(12)).isEqualTo(3); // d
        assertThat(bytes.getInt(16)).isEqualTo(2); // k
        assertThat(bytes.getFloat(20 + 4 * (1 * 2 + 0))).isEqualTo(3f); // W[1][0]
        assertThat(bytes.getFloat(20 + 4 * 6 + 4)).isEqualTo(1f); // b[1]
        assertThat(bytes.capacity()).isEqualTo(20 + 4 * 2 * (3 + 1));
    }

    @Test
    void refusesWrongLengthMagicVersionAndLabelCount() {
        byte[] good = HeadFormat.toBytes(head);

        assertThatThrownBy(() -> HeadFormat.fromBytes(Arrays.copyOf(good, good.length - 1), LABELS))
                .hasMessageContaining("needs exactly 52");
        byte[] badMagic = good.clone();
        badMagic[0] = 'X';
        assertThatThrownBy(() -> HeadFormat.fromBytes(badMagic, LABELS))
                .hasMessageContaining("magic");
        byte[] badVersion = good.clone();
        badVersion[8] = 9;
        assertThatThrownBy(() -> HeadFormat.fromBytes(badVersion, LABELS))
                .hasMessageContaining("format version 9 is not supported");
        assertThatThrownBy(() -> HeadFormat.fromBytes(good, List.of("a", "b", "c")))
                .hasMessageContaining("has 2 outputs but the manifest lists 3 labels");
    }
}
