package dev.sift.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RequestCodecTest {

    private final RequestCodec codec = new RequestCodec();

    @Test
    void textAndPairRecordsShareOneTopic() throws Exception {
        TextRequest text =
                TextRequest.newBuilder()
                        .setId("t-1")
                        .setText("Free money!!!")
                        .setModels(List.of("spam"))
                        .build();
        PairRequest pair =
                PairRequest.newBuilder()
                        .setId("p-1")
                        .setTextA("Meeting moved")
                        .setTextB("The 3pm meeting is now at 4pm.")
                        .setAttributes(Map.of("lang", "en"))
                        .build();

        assertThat(codec.decode(codec.encode(text))).isEqualTo(text);
        assertThat(codec.decode(codec.encode(pair))).isEqualTo(pair);
    }

    @Test
    void acceptsJsonTextRequests() throws Exception {
        SpecificRecord decoded =
                codec.decode(
                        json(
                                "{\"id\":\"j-1\",\"text\":\"hello\",\"models\":[\"spam\",\"topic\"],"
                                    + "\"attributes\":{\"n\":3,\"src\":\"cli\"},"
                                    + "\"event_time\":\"2026-11-24T10:15:30Z\"}"));

        assertThat(decoded).isInstanceOf(TextRequest.class);
        TextRequest text = (TextRequest) decoded;
        assertThat(text.getText()).isEqualTo("hello");
        assertThat(text.getModels()).containsExactly("spam", "topic");
        assertThat(text.getAttributes()).containsEntry("n", "3").containsEntry("src", "cli");
        assertThat(text.getEventTime()).isEqualTo(Instant.parse("2026-11-24T10:15:30Z"));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"id\":\"j-2\",\"text_a\":\"a\",\"text_b\":\"b\",\"event_time\":1700000000000}",
                "  {\"id\":\"j-2\",\"textA\":\"a\",\"textB\":\"b\",\"eventTime\":1700000000000}"
            })
    void acceptsJsonPairRequestsInEitherCase(String line) throws Exception {
        SpecificRecord decoded = codec.decode(json(line));

        assertThat(decoded).isInstanceOf(PairRequest.class);
        PairRequest pair = (PairRequest) decoded;
        assertThat(pair.getTextA()).isEqualTo("a");
        assertThat(pair.getTextB()).isEqualTo("b");
        assertThat(pair.getEventTime()).isEqualTo(Instant.ofEpochMilli(1_700_000_000_000L));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"text\":\"no id\"}|MISSING_ID|no \"id\"",
                "{\"id\":\"x\",\"text_a\":\"only half\"}|MISSING_PAIR_HALF|lacks \"text_b\"",
                "{\"id\":\"x\",\"text_b\":\"only half\"}|MISSING_PAIR_HALF|lacks \"text_a\"",
                "{\"id\":\"x\"}|EMPTY_TEXT|neither",
                "{\"id\":\"x\",\"text\":42}|UNDECODABLE|must be a string",
                "{\"id\":\"x\",\"text\":\"t\",\"models\":\"spam\"}|UNDECODABLE|array of strings",
                "{\"id\":\"x\",\"text\":\"t\",\"text_a\":\"a\"}|UNDECODABLE|both",
                "{\"id\":\"x\",\"text\":\"t\"|UNDECODABLE|JSON request",
                "[1,2]|UNDECODABLE|Neither Avro",
                "plain words|UNDECODABLE|Neither Avro",
            })
    void refusesMalformedRequestsWithACodeAndReason(
            String line, ErrorCode code, String reasonFragment) {
        assertThatThrownBy(() -> codec.decode(json(line)))
                .isInstanceOf(RecordDecodingException.class)
                .hasMessageContaining(reasonFragment)
                .extracting(e -> ((RecordDecodingException) e).code())
                .isEqualTo(code);
    }

    @Test
    void reportsInvalidUtf8InJson() {
        byte[] bytes = json("{\"id\":\"x\",\"text\":\"caf?\"}");
        bytes[bytes.length - 3] = (byte) 0xC3; // a lead byte followed by '"' is not UTF-8

        assertThatThrownBy(() -> codec.decode(bytes))
                .isInstanceOf(RecordDecodingException.class)
                .extracting(e -> ((RecordDecodingException) e).code())
                .isEqualTo(ErrorCode.INVALID_UTF8);
    }

    @Test
    void acceptsAReplacementCharacterTheProducerReallySent() throws Exception {
        String text = "mojibake from an old mailer: caf\uFFFD";
        TextRequest avro = TextRequest.newBuilder().setId("r").setText(text).build();

        assertThat(((TextRequest) codec.decode(codec.encode(avro))).getText()).isEqualTo(text);
        assertThat(
                        ((TextRequest)
                                        codec.decode(
                                                json("{\"id\":\"j\",\"text\":\"" + text + "\"}")))
                                .getText())
                .isEqualTo(text);
    }

    @Test
    void refusesAvroTextWhoseBytesAreNotUtf8() {
        byte[] bytes = codec.encode(TextRequest.newBuilder().setId("r").setText("abc!").build());
        for (int i = bytes.length - 1; i >= 0; i--) {
            if (bytes[i] == '!') {
                bytes[i] = (byte) 0xC3; // a lead byte with nothing to lead
                break;
            }
        }

        assertThatThrownBy(() -> codec.decode(bytes))
                .isInstanceOf(RecordDecodingException.class)
                .hasMessageContaining("\"text\" is not valid UTF-8")
                .extracting(e -> ((RecordDecodingException) e).code())
                .isEqualTo(ErrorCode.INVALID_UTF8);
    }

    @Test
    void refusesOtherSiftRecordsOnTheRequestTopic() {
        byte[] announcement =
                RecordCodec.of(ModelAnnouncement.class)
                        .encode(
                                ModelAnnouncement.newBuilder()
                                        .setName("spam")
                                        .setVersion(1)
                                        .setAction(ModelAction.ACTIVATE)
                                        .setBundleUri("/r/spam/1")
                                        .setManifestSha256("00")
                                        .setAnnouncedAt(Instant.EPOCH)
                                        .build());

        assertThatThrownBy(() -> codec.decode(announcement))
                .isInstanceOf(RecordDecodingException.class)
                .hasMessageContaining("neither a TextRequest nor a PairRequest")
                .extracting(e -> ((RecordDecodingException) e).code())
                .isEqualTo(ErrorCode.UNKNOWN_SCHEMA);
    }

    @Test
    void refusesAnEmptyValue() {
        assertThatThrownBy(() -> codec.decode(new byte[0]))
                .isInstanceOf(RecordDecodingException.class)
                .hasMessage("Empty record value");
    }

    private static byte[] json(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
