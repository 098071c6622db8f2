package dev.sift.job.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.job.SiftPipeline;
import dev.sift.job.infer.InferenceSettings;
import dev.sift.job.sink.OutRecord;
import dev.sift.model.bundle.Pooling;
import dev.sift.schemas.DeadLetter;
import dev.sift.schemas.ErrorCode;
import dev.sift.schemas.OutputFormat;
import dev.sift.schemas.RecordDecodingException;
import dev.sift.serving.request.RawRecord;
import dev.sift.serving.request.RequestValidator;
import dev.sift.serving.testing.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every value of {@link BadInputs} gets its code, and none of them fails the job. */
class BadInputCorpusTest {

    private final RequestValidator validator = new RequestValidator(BadInputs.LIMITS);

    static List<BadInputs.Case> corpus() {
        return BadInputs.all();
    }

    @Test
    void theCorpusIsLargeAndCoversBothEncodings() {
        assertThat(corpus()).hasSizeGreaterThanOrEqualTo(30);
        assertThat(corpus()).filteredOn(c -> c.name().contains("Avro")).hasSizeGreaterThan(5);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void eachBadInputGetsItsCode(BadInputs.Case bad) {
        assertThatThrownBy(
                        () ->
                                validator.validate(
                                        new RawRecord("requests", 0, 0, 1_000, null, bad.value())))
                .isInstanceOf(RecordDecodingException.class)
                .satisfies(e -> assertThat(e.getMessage()).isNotBlank().hasSizeLessThan(500))
                .extracting(e -> ((RecordDecodingException) e).code())
                .isEqualTo(bad.code());
    }

    @Test
    void theWholeCorpusFlowsThroughTheJobWithoutARestart(@TempDir Path registry) throws Exception {
        new TestModels(registry).publish("spam", 1, Pooling.CLS);
        List<BadInputs.Case> bad = corpus();
        List<RawRecord> records = new ArrayList<>();
        for (int i = 0; i < bad.size(); i++) {
            records.add(new RawRecord("requests", 0, i, 1_000, null, bad.get(i).value()));
        }
        String good = "{\"id\":\"good\",\"text\":\"see you at the meeting [SEP] tomorrow\"}";
        records.add(
                new RawRecord(
                        "requests",
                        0,
                        bad.size(),
                        1_000,
                        null,
                        good.getBytes(StandardCharsets.UTF_8)));

        Configuration noRestarts = new Configuration();
        noRestarts.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(noRestarts);
        env.setParallelism(2);
        DataStream<byte[]> noAnnouncements =
                env.fromSequence(0, 0)
                        .filter(x -> false)
                        .map(x -> new byte[0])
                        .returns(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        InferenceSettings settings =
                InferenceSettings.builder()
                        .registry(registry.toString())
                        .resultsTopic("results")
                        .deadLetterTopic("dead-letters")
                        .build();
        List<OutRecord> out = new ArrayList<>();
        SiftPipeline.build(env.fromData(records), noAnnouncements, settings, BadInputs.LIMITS)
                .executeAndCollect()
                .forEachRemaining(out::add);

        Map<Long, ErrorCode> codes = new TreeMap<>();
        for (OutRecord record : out) {
            if (record.topic.equals("dead-letters")) {
                DeadLetter letter = deadLetter(record.value);
                codes.put(letter.getOffset(), letter.getErrorCode());
            }
        }
        Map<Long, ErrorCode> expected = new TreeMap<>();
        for (int i = 0; i < bad.size(); i++) {
            expected.put((long) i, bad.get(i).code());
        }
        assertThat(codes).isEqualTo(expected);
        assertThat(out).filteredOn(r -> r.topic.equals("results")).hasSize(1);
    }

    private static DeadLetter deadLetter(byte[] value) throws Exception {
        return OutputFormat.of(value).deadLetters().decode(value);
    }
}
