package dev.sift.serving.request;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.schemas.ErrorCode;
import dev.sift.schemas.PairRequest;
import dev.sift.schemas.RecordDecodingException;
import dev.sift.schemas.RequestCodec;
import dev.sift.schemas.TextRequest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RequestValidatorTest {

    private final RequestValidator validator =
            new RequestValidator(new RequestLimits(50, 16, 20, 2));
    private final RequestCodec codec = new RequestCodec();

    @Test
    void acceptsAvroTextAndPairRequestsKeepingCoordinatesAndTimes() throws Exception {
        TextRequest text =
                TextRequest.newBuilder()
                        .setId("t")
                        .setText("hello")
                        .setModels(List.of("spam"))
                        .setAttributes(Map.of("k", "v"))
                        .setEventTime(Instant.ofEpochMilli(42))
                        .build();
        ClassifyRequest decoded = validator.validate(raw(codec.encode(text)));

        assertThat(decoded.id).isEqualTo("t");
        assertThat(decoded.models).containsExactly("spam");
        assertThat(decoded.attributes).containsEntry("k", "v");
        assertThat(decoded.eventTimeMillis).isEqualTo(42);
        assertThat(decoded.partition).isEqualTo(3);
        assertThat(decoded.offset).isEqualTo(7);

        PairRequest pair = PairRequest.newBuilder().setId("p").setTextA("a").setTextB("b").build();
        ClassifyRequest decodedPair = validator.validate(raw(codec.encode(pair)));
        assertThat(decodedPair.isPair()).isTrue();
        assertThat(decodedPair.eventTimeMillis)
                .as("Kafka timestamp when no event time")
                .isEqualTo(1_000);
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"id\":\"a\",\"text\":\"  \"}|EMPTY_TEXT|blank \"text\"",
                "{\"id\":\"a\",\"text_a\":\"x\",\"text_b\":\" \"}|MISSING_PAIR_HALF|blank"
                        + " \"textB\"",
                "{\"id\":\" \",\"text\":\"x\"}|MISSING_ID|blank id",
                "{\"id\":\"a\",\"text\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}|TEXT_TOO_LONG|limit"
                    + " is 50",
                "garbage|UNDECODABLE|Neither Avro",
                "{\"id\":\"a\",\"text\":\"x\",\"attributes\":{\"k\":\"12345678901234567890\"}}"
                        + "|ATTRIBUTES_TOO_LARGE|21 bytes of attributes; the limit is 20",
                "{\"id\":\"a\",\"text\":\"x\",\"models\":[\"a\",\"b\",\"c\"]}|MODEL_LIST_TOO_LARGE|names"
                    + " 3 models; the limit is 2",
            })
    void refusesWithACodeAndAReason(String value, ErrorCode code, String reason) {
        assertThatThrownBy(() -> validator.validate(raw(value.getBytes(StandardCharsets.UTF_8))))
                .isInstanceOf(RecordDecodingException.class)
                .hasMessageContaining(reason)
                .extracting(e -> ((RecordDecodingException) e).code())
                .isEqualTo(code);
    }

    @Test
    void attributesAndModelsAtTheirLimitsPass() throws Exception {
        byte[] json =
                ("{\"id\":\"a\",\"text\":\"x\",\"models\":[\"a\",\"b\"],"
                                + "\"attributes\":{\"k\":\"1234567890123456789\"}}")
                        .getBytes(StandardCharsets.UTF_8);

        ClassifyRequest request = validator.validate(raw(json));

        assertThat(request.models).containsExactly("a", "b");
        assertThat(request.attributes).containsEntry("k", "1234567890123456789");
    }

    @Test
    void aModelNameLongerThanAnyRegistryNameIsRefused() {
        byte[] json =
                ("{\"id\":\"a\",\"text\":\"x\",\"models\":[\"" + "m".repeat(256) + "\"]}")
                        .getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> validator.validate(raw(json)))
                .hasMessageContaining("a model of 256 characters")
                .extracting(e -> ((RecordDecodingException) e).code())
                .isEqualTo(ErrorCode.MODEL_LIST_TOO_LARGE);
    }

    @Test
    void aModelNamedTwiceIsAnsweredOnce() throws Exception {
        byte[] json =
                "{\"id\":\"d\",\"text\":\"x\",\"models\":[\"spam\",\"topic\",\"spam\"]}"
                        .getBytes(StandardCharsets.UTF_8);

        assertThat(validator.validate(raw(json)).models).containsExactly("spam", "topic");
    }

    @Test
    void refusesAvroTextThatWasNotValidUtf8() {
        byte[] bytes = codec.encode(TextRequest.newBuilder().setId("u").setText("caf!").build());
        int bang = lastIndexOf(bytes, (byte) '!');
        bytes[bang] = (byte) 0xFF; // the text's last byte; 0xFF is never valid in UTF-8

        assertThatThrownBy(() -> validator.validate(raw(bytes)))
                .isInstanceOf(RecordDecodingException.class)
                .extracting(e -> ((RecordDecodingException) e).code())
                .isEqualTo(ErrorCode.INVALID_UTF8);
    }

    private static int lastIndexOf(byte[] bytes, byte b) {
        for (int i = bytes.length - 1; i >= 0; i--) {
            if (bytes[i] == b) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    private static RawRecord raw(byte[] value) {
        return new RawRecord("requests", 3, 7, 1_000, null, value);
    }
}
