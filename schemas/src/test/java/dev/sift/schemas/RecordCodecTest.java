package dev.sift.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;

class RecordCodecTest {

    @Test
    void roundTripsEveryContract() throws Exception {
        Instant now = Instant.ofEpochMilli(1_700_000_000_123L);
        ClassificationResult result =
                ClassificationResult.newBuilder()
                        .setId("r-1")
                        .setModel("spam")
                        .setModelVersion(3)
                        .setEncoderHash("ab".repeat(32))
                        .setLabel("spam")
                        .setLabelIndex(1)
                        .setProbability(0.9f)
                        .setProbabilities(
                                List.of(
                                        new LabelProbability("ham", 0.1f),
                                        new LabelProbability("spam", 0.9f)))
                        .setLatencyMillis(12)
                        .setAttributes(Map.of("tenant", "acme"))
                        .setEventTime(now)
                        .build();
        DeadLetter deadLetter =
                DeadLetter.newBuilder()
                        .setValue(ByteBuffer.wrap(new byte[] {1, 2, 3}))
                        .setTopic("requests")
                        .setPartition(2)
                        .setOffset(41)
                        .setErrorCode(ErrorCode.EMPTY_TEXT)
                        .setReason("text is blank")
                        .setFailedAt(now)
                        .build();
        ModelAnnouncement announcement =
                ModelAnnouncement.newBuilder()
                        .setName("spam")
                        .setVersion(4)
                        .setAction(ModelAction.ACTIVATE)
                        .setBundleUri("file:///registry/spam/4")
                        .setManifestSha256("cd".repeat(32))
                        .setAnnouncedAt(now)
                        .build();

        assertThat(roundTrip(ClassificationResult.class, result)).isEqualTo(result);
        assertThat(roundTrip(DeadLetter.class, deadLetter)).isEqualTo(deadLetter);
        assertThat(roundTrip(ModelAnnouncement.class, announcement)).isEqualTo(announcement);
    }

    @Test
    void encodingStartsWithTheSingleObjectHeader() {
        byte[] bytes =
                RecordCodec.of(TextRequest.class)
                        .encode(TextRequest.newBuilder().setId("1").setText("hi").build());

        assertThat(bytes[0]).isEqualTo((byte) 0xC3);
        assertThat(bytes[1]).isEqualTo((byte) 0x01);
        assertThat(RecordCodec.of(TextRequest.class).accepts(bytes)).isTrue();
        assertThat(RecordCodec.of(PairRequest.class).accepts(bytes)).isFalse();
    }

    @Test
    void refusesAnUnknownWriterSchemaWithItsFingerprint() {
        Schema stranger =
                new Schema.Parser()
                        .parse(
                                "{\"type\":\"record\",\"name\":\"TextRequest\","
                                        + "\"namespace\":\"dev.sift.schemas\",\"fields\":["
                                        + "{\"name\":\"id\",\"type\":\"int\"}]}");
        GenericRecord record = new GenericData.Record(stranger);
        record.put("id", 7);
        byte[] bytes = encodeGeneric(stranger, record);

        assertThatThrownBy(() -> RecordCodec.of(TextRequest.class).decode(bytes))
                .isInstanceOf(RecordDecodingException.class)
                .hasMessageContaining("Unknown writer schema fingerprint")
                .extracting(e -> ((RecordDecodingException) e).code())
                .isEqualTo(ErrorCode.UNKNOWN_SCHEMA);
    }

    @Test
    void refusesATruncatedBody() {
        RecordCodec<TextRequest> codec = RecordCodec.of(TextRequest.class);
        byte[] bytes =
                codec.encode(
                        TextRequest.newBuilder()
                                .setId("1")
                                .setText("a text long enough to cut")
                                .build());
        byte[] truncated = Arrays.copyOf(bytes, bytes.length - 8);

        assertThatThrownBy(() -> codec.decode(truncated))
                .isInstanceOf(RecordDecodingException.class)
                .hasMessageContaining("Corrupt TextRequest body")
                .extracting(e -> ((RecordDecodingException) e).code())
                .isEqualTo(ErrorCode.UNDECODABLE);
    }

    @Test
    void decodesWhatAnOlderCompatibleWriterWrote() throws Exception {
        // A writer from before "attributes" and "eventTime" existed: resolution fills defaults.
        Schema older =
                new Schema.Parser()
                        .parse(
                                "{\"type\":\"record\",\"name\":\"TextRequest\","
                                        + "\"namespace\":\"dev.sift.schemas\",\"fields\":["
                                        + "{\"name\":\"id\",\"type\":\"string\"},"
                                        + "{\"name\":\"text\",\"type\":\"string\"}]}");
        GenericRecord record = new GenericData.Record(older);
        record.put("id", "old-1");
        record.put("text", "written by an old producer");
        byte[] bytes = encodeGeneric(older, record);
        RecordCodec<TextRequest> codec =
                RecordCodec.withExtraWriterSchemas(TextRequest.class, older);

        TextRequest decoded = codec.decode(bytes);

        assertThat(decoded.getId()).isEqualTo("old-1");
        assertThat(decoded.getModels()).isEmpty();
        assertThat(decoded.getAttributes()).isEmpty();
        assertThat(decoded.getEventTime()).isNull();
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> T roundTrip(
            Class<T> type, T record) throws RecordDecodingException {
        RecordCodec<T> codec = RecordCodec.of(type);
        return codec.decode(codec.encode(record));
    }

    private static byte[] encodeGeneric(Schema schema, GenericRecord record) {
        try {
            ByteBuffer buffer =
                    new BinaryMessageEncoder<GenericRecord>(GenericData.get(), schema)
                            .encode(record);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
