package dev.sift.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AvroBoundsTest {

    private final RecordCodec<TextRequest> codec = RecordCodec.of(TextRequest.class);

    @Test
    void acceptsEveryWellFormedRecord() {
        byte[] bytes =
                codec.encode(
                        TextRequest.newBuilder()
                                .setId("a")
                                .setText("é".repeat(100))
                                .setModels(List.of("spam", "topic"))
                                .setAttributes(Map.of("k", "v", "empty", ""))
                                .setEventTime(Instant.ofEpochMilli(42))
                                .build());

        assertThatCode(
                        () ->
                                AvroBounds.check(
                                        TextRequest.getClassSchema(),
                                        bytes,
                                        RecordCodec.HEADER_LENGTH))
                .doesNotThrowAnyException();
    }

    @Test
    void refusesAStringLongerThanTheRecordBeforeAvroAllocatesIt() {
        byte[] header =
                Arrays.copyOf(
                        codec.encode(TextRequest.newBuilder().setId("a").setText("b").build()),
                        RecordCodec.HEADER_LENGTH);
        // id length 1,000,000,000 (zig-zag varint), then one byte
        byte[] body = {(byte) 0x80, (byte) 0xa8, (byte) 0xd6, (byte) 0xb9, 0x07, 'a'};
        byte[] bytes = Arrays.copyOf(header, header.length + body.length);
        System.arraycopy(body, 0, bytes, header.length, body.length);

        assertThatThrownBy(() -> codec.decode(bytes))
                .isInstanceOf(RecordDecodingException.class)
                .hasMessageContaining("declares 1000000000 bytes where 1 remain");
    }

    @Test
    void refusesACollectionWithMoreItemsThanBytes() {
        byte[] good =
                codec.encode(
                        TextRequest.newBuilder()
                                .setId("a")
                                .setText("b")
                                .setModels(List.of("m"))
                                .build());
        // Body: id "a" (2 bytes), text "b" (2 bytes), then the models array's first block count.
        int count = RecordCodec.HEADER_LENGTH + 4;
        assertThat(good[count]).isEqualTo((byte) 2); // one item, zig-zag
        byte[] bytes = good.clone();
        bytes[count] = (byte) 0x7e; // 63 items

        assertThatThrownBy(() -> codec.decode(bytes))
                .isInstanceOf(RecordDecodingException.class)
                .hasMessageContaining("declares 63 items");
    }
}
