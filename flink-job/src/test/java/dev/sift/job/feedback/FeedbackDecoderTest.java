package dev.sift.job.feedback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.job.sink.OutRecord;
import dev.sift.schemas.DeadLetter;
import dev.sift.schemas.ErrorCode;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.request.RawRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FeedbackDecoderTest {

    private static final RecordCodec<DeadLetter> LETTERS = RecordCodec.of(DeadLetter.class);

    @Test
    void decodesFeedbackAndKeepsWhereItWasRead() throws Exception {
        try (var harness = harness()) {
            harness.processElement(
                    raw(
                            7,
                            "{\"id\": \"m-1\", \"model\": \"spam\", \"label\": \"ham\","
                                    + " \"by\": \"moderator\"}"),
                    0);

            assertThat(harness.extractOutputValues())
                    .containsExactly(new Feedback("m-1", "spam", "ham").from("fb", 2, 7, 1_000));
            assertThat(harness.getSideOutput(FeedbackDecoder.DEAD_LETTERS)).isNull();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "not JSON                | hello                                       |"
                        + " UNDECODABLE    | Malformed JSON feedback",
                "trailing junk           | {\"id\":\"a\",\"model\":\"m\",\"label\":\"l\"} x |"
                        + " UNDECODABLE | Malformed JSON feedback",
                "an array                | [1, 2]                                      |"
                        + " UNDECODABLE    | must be a JSON object",
                "no id                   | {\"model\":\"m\",\"label\":\"l\"}           | MISSING_ID"
                        + "     | no \"id\"",
                "an empty id             | {\"id\":\"\",\"model\":\"m\",\"label\":\"l\"} |"
                        + " MISSING_ID   | \"id\" is empty",
                "a numeric id            | {\"id\":7,\"model\":\"m\",\"label\":\"l\"}  | MISSING_ID"
                        + "     | must be a string, not NUMBER",
                "no model                | {\"id\":\"a\",\"label\":\"l\"}              |"
                        + " UNDECODABLE    | no \"model\"",
                "a null label            | {\"id\":\"a\",\"model\":\"m\",\"label\":null} |"
                        + " UNDECODABLE  | no \"label\"",
                "a list label            | {\"id\":\"a\",\"model\":\"m\",\"label\":[\"l\"]} |"
                        + " UNDECODABLE | must be a string, not ARRAY",
                "an empty label          | {\"id\":\"a\",\"model\":\"m\",\"label\":\"\"} |"
                        + " UNDECODABLE  | \"label\" is empty",
            })
    void deadLettersMalformedFeedbackWithItsReason(
            String what, String value, ErrorCode code, String reason) throws Exception {
        assertDeadLettered(value.getBytes(StandardCharsets.UTF_8), code, reason);
    }

    @Test
    void deadLettersFieldsTooLongForAnyAnswer() throws Exception {
        assertDeadLettered(
                json("i".repeat(257), "spam", "ham"), ErrorCode.ID_TOO_LONG, "257 characters");
        assertDeadLettered(
                json("a", "m".repeat(256), "ham"),
                ErrorCode.MODEL_LIST_TOO_LARGE,
                "256 characters");
        assertDeadLettered(
                json("a", "spam", "l".repeat(256)), ErrorCode.UNDECODABLE, "256 characters");
    }

    @Test
    void deadLettersEmptyAndNonUtf8Values() throws Exception {
        assertDeadLettered(new byte[0], ErrorCode.UNDECODABLE, "Empty");
        byte[] latin1 =
                "{\"id\":\"caf\u00e9\",\"model\":\"m\",\"label\":\"l\"}"
                        .getBytes(StandardCharsets.ISO_8859_1);
        assertDeadLettered(latin1, ErrorCode.INVALID_UTF8, "UTF-8");
    }

    @Test
    void answersAndFeedbackTravelAsFlinkPojos() {
        // Not generic (Kryo) types: a POJO's fields can be added without breaking its state.
        assertThat(TypeInformation.of(Answer.class)).isInstanceOf(PojoTypeInfo.class);
        assertThat(TypeInformation.of(Feedback.class)).isInstanceOf(PojoTypeInfo.class);
        assertThat(TypeInformation.of(FeedbackTally.class)).isInstanceOf(PojoTypeInfo.class);
    }

    private static void assertDeadLettered(byte[] value, ErrorCode code, String reason)
            throws Exception {
        try (var harness = harness()) {
            harness.processElement(new RawRecord("fb", 2, 7, 1_000, null, value), 0);

            assertThat(harness.extractOutputValues()).isEmpty();
            List<OutRecord> letters =
                    harness.getSideOutput(FeedbackDecoder.DEAD_LETTERS).stream()
                            .map(StreamRecord::getValue)
                            .toList();
            assertThat(letters).hasSize(1);
            assertThat(letters.get(0).topic).isEqualTo("dead");
            DeadLetter letter = LETTERS.decode(letters.get(0).value);
            assertThat(letter.getErrorCode()).isEqualTo(code);
            assertThat(letter.getReason()).contains(reason);
            assertThat(letter.getValue()).isEqualTo(ByteBuffer.wrap(value));
            assertThat(letter.getTopic()).isEqualTo("fb");
            assertThat(letter.getOffset()).isEqualTo(7);
        }
    }

    private static OneInputStreamOperatorTestHarness<RawRecord, Feedback> harness()
            throws Exception {
        return ProcessFunctionTestHarnesses.forProcessFunction(new FeedbackDecoder("dead"));
    }

    private static RawRecord raw(long offset, String value) {
        return new RawRecord("fb", 2, offset, 1_000, null, value.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] json(String id, String model, String label) {
        return ("{\"id\":\"" + id + "\",\"model\":\"" + model + "\",\"label\":\"" + label + "\"}")
                .getBytes(StandardCharsets.UTF_8);
    }
}
