package dev.sift.job.sink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.model.bundle.Digests;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.DeadLetter;
import dev.sift.schemas.ErrorCode;
import dev.sift.schemas.LabelProbability;
import dev.sift.schemas.OutputFormat;
import dev.sift.schemas.OutputHeaders;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.serving.request.RawRecord;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.testutils.MetricListener;
import org.apache.flink.util.UserCodeClassLoader;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

/** What the sink writes: each output format, decodable, with the headers on every record. */
class OutRecordSerializerTest {

    private static final ClassificationResult RESULT =
            ClassificationResult.newBuilder()
                    .setId("m-1")
                    .setModel("spam")
                    .setModelVersion(7)
                    .setEncoderHash("ab".repeat(32))
                    .setLabel("spam")
                    .setLabelIndex(1)
                    .setProbability(0.75f)
                    .setProbabilities(
                            List.of(
                                    new LabelProbability("ham", 0.25f),
                                    new LabelProbability("spam", 0.75f)))
                    .setLatencyMillis(5)
                    .setEventTime(Instant.ofEpochMilli(1_700_000_000_000L))
                    .build();

    private static final ClassifyRequest REQUEST = request();

    @Test
    void resultsAreWrittenInTheConfiguredFormatWithModelVersionAndRequestHeaders()
            throws Exception {
        OutRecord out = OutRecords.result(RESULT, REQUEST, "results");
        for (OutputFormat format : OutputFormat.values()) {
            ProducerRecord<byte[], byte[]> record = serialize(format, out);

            assertThat(OutputFormat.of(record.value())).isEqualTo(format);
            assertThat(format.results().decode(record.value())).isEqualTo(RESULT);
            assertThat(record.topic()).isEqualTo("results");
            assertThat(new String(record.key(), StandardCharsets.UTF_8)).isEqualTo("m-1");
            assertThat(headers(record))
                    .containsExactlyInAnyOrderEntriesOf(
                            Map.of(
                                    OutputHeaders.MODEL, "spam",
                                    OutputHeaders.MODEL_VERSION, "7",
                                    OutputHeaders.REQUEST_ID, "m-1"));
        }
        assertThat(new String(serialize(OutputFormat.JSON, out).value(), StandardCharsets.UTF_8))
                .startsWith("{\"id\":\"m-1\",\"model\":\"spam\"");
    }

    @Test
    void deadLettersKeepTheOriginalBytesInEitherFormat() throws Exception {
        byte[] original = {(byte) 0xC3, 0x01, 0x00, (byte) 0xFF};
        OutRecord out =
                DeadLetters.of(
                        new RawRecord("requests", 1, 42, 0L, "k".getBytes(), original),
                        ErrorCode.UNKNOWN_SCHEMA,
                        "no such schema",
                        "req-9",
                        "dead");
        for (OutputFormat format : OutputFormat.values()) {
            ProducerRecord<byte[], byte[]> record = serialize(format, out);

            DeadLetter letter = format.deadLetters().decode(record.value());
            assertThat(letter.getValue().array()).isEqualTo(original);
            assertThat(letter.getKey().array()).isEqualTo("k".getBytes());
            assertThat(deadLetter(record.value())).isEqualTo(letter);
            assertThat(headers(record))
                    .containsEntry(OutputHeaders.ERROR_CODE, "UNKNOWN_SCHEMA")
                    .containsEntry(OutputHeaders.REQUEST_ID, "req-9");
        }
    }

    @Test
    void aDeadLetterCarriesABoundedPrefixWithTheWholeLengthAndHash() throws Exception {
        byte[] original = new byte[900_000];
        new Random(7).nextBytes(original);
        OutRecord out =
                DeadLetters.of(
                        new RawRecord("requests", 0, 3, 0L, null, original),
                        ErrorCode.TEXT_TOO_LONG,
                        "too long",
                        "big",
                        "dead");
        for (OutputFormat format : OutputFormat.values()) {
            ProducerRecord<byte[], byte[]> record = serialize(format, out);

            assertThat(record.topic()).isEqualTo("dead");
            assertThat(OutRecordSerializer.sizeInBytes(record)).isLessThan(100_000);
            DeadLetter letter = format.deadLetters().decode(record.value());
            assertThat(letter.getValue().array())
                    .isEqualTo(Arrays.copyOf(original, DeadLetters.MAX_VALUE_BYTES));
            assertThat(letter.getValueLength()).isEqualTo(900_000L);
            assertThat(letter.getValueSha256()).isEqualTo(Digests.sha256(original));
        }
    }

    @Test
    void aRecordOverTheProducersLimitBecomesASmallRecordTooLargeDeadLetter() throws Exception {
        ClassificationResult large =
                ClassificationResult.newBuilder(RESULT)
                        .setAttributes(Map.of("note", "x".repeat(5_000)))
                        .build();
        OutRecord out = OutRecords.result(large, REQUEST, "results");
        for (OutputFormat format : OutputFormat.values()) {
            OutRecordSerializer serializer = new OutRecordSerializer(format, "dead", 4_000);

            ProducerRecord<byte[], byte[]> record = serializer.serialize(out, null, 1L);

            assertThat(record.topic()).isEqualTo("dead");
            assertThat(record.key()).isNull();
            assertThat(OutRecordSerializer.sizeInBytes(record)).isLessThanOrEqualTo(4_000);
            DeadLetter letter = format.deadLetters().decode(record.value());
            assertThat(letter.getErrorCode()).isEqualTo(ErrorCode.RECORD_TOO_LARGE);
            assertThat(letter.getRequestId()).isEqualTo("m-1");
            assertThat(letter.getTopic()).isEqualTo("requests");
            assertThat(letter.getPartition()).isEqualTo(1);
            assertThat(letter.getOffset()).isEqualTo(42L);
            assertThat(letter.getReason())
                    .contains("The result of spam v7 for request m-1")
                    .contains("over the producer's max.request.size of 4000");
            assertThat(headers(record)).containsEntry(OutputHeaders.ERROR_CODE, "RECORD_TOO_LARGE");
        }
        assertThat(
                        new OutRecordSerializer(OutputFormat.AVRO, "dead", 10_000)
                                .serialize(out, null, 1L)
                                .topic())
                .as("under the limit, the result itself")
                .isEqualTo("results");
    }

    @Test
    void oversizedRecordsAreCountedInTheSinksMetricWhenTheWriterOpensItTwice() throws Exception {
        MetricListener listener = new MetricListener();
        SerializationSchema.InitializationContext context =
                new SerializationSchema.InitializationContext() {
                    @Override
                    public MetricGroup getMetricGroup() {
                        return listener.getMetricGroup();
                    }

                    @Override
                    public UserCodeClassLoader getUserCodeClassLoader() {
                        throw new UnsupportedOperationException();
                    }
                };
        OutRecordSerializer serializer = new OutRecordSerializer(OutputFormat.AVRO, "dead", 1_000);
        // As Flink's exactly-once Kafka writer does: once in each of its two constructors.
        serializer.open(context, null);
        serializer.open(context, null);
        ClassificationResult large =
                ClassificationResult.newBuilder(RESULT)
                        .setAttributes(Map.of("note", "x".repeat(2_000)))
                        .build();

        serializer.serialize(OutRecords.result(large, REQUEST, "results"), null, 1L);

        assertThat(listener.getCounter("oversizedRecords").orElseThrow().getCount()).isEqualTo(1);
    }

    @Test
    void headersSurviveFlinksPojoSerializer() throws Exception {
        TypeInformation<OutRecord> type = TypeInformation.of(OutRecord.class);
        assertThat(type).isInstanceOf(PojoTypeInfo.class);
        TypeSerializer<OutRecord> serializer = type.createSerializer(new SerializerConfigImpl());
        OutRecord out = OutRecords.result(RESULT, REQUEST, "results");

        DataOutputSerializer bytes = new DataOutputSerializer(256);
        serializer.serialize(out, bytes);
        OutRecord back = serializer.deserialize(new DataInputDeserializer(bytes.getCopyOfBuffer()));

        assertThat(back).isEqualTo(out);
        assertThat(back.headers).containsEntry(OutputHeaders.MODEL_VERSION, "7");
    }

    private static ProducerRecord<byte[], byte[]> serialize(OutputFormat format, OutRecord out) {
        return new OutRecordSerializer(format, "dead", OutRecordSerializer.DEFAULT_MAX_RECORD_BYTES)
                .serialize(out, null, 1L);
    }

    private static ClassifyRequest request() {
        ClassifyRequest request = new ClassifyRequest();
        request.id = "m-1";
        request.topic = "requests";
        request.partition = 1;
        request.offset = 42;
        return request;
    }

    private static Map<String, String> headers(ProducerRecord<byte[], byte[]> record) {
        Map<String, String> headers = new HashMap<>();
        for (Header header : record.headers()) {
            headers.put(header.key(), new String(header.value(), StandardCharsets.UTF_8));
        }
        return headers;
    }

    private static DeadLetter deadLetter(byte[] value) throws Exception {
        return OutputFormat.of(value).deadLetters().decode(value);
    }
}
