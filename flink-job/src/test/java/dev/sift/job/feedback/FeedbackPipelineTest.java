package dev.sift.job.feedback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.job.sink.OutRecord;
import dev.sift.schemas.DeadLetter;
import dev.sift.schemas.ErrorCode;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.request.RawRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The feedback branch runs on a MiniCluster at parallelism 2 and hands back its dead letters. */
class FeedbackPipelineTest {

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    @Test
    void joinsFeedbackAndReturnsTheRefusedAsDeadLetters() throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        var answers =
                env.fromData(
                        TypeInformation.of(Answer.class),
                        new Answer("m-1", "spam", 3, "spam", new String[] {"ham", "spam"}, 0),
                        new Answer("m-2", "spam", 3, "ham", new String[] {"ham", "spam"}, 0));
        var feedback =
                env.fromData(
                        TypeInformation.of(RawRecord.class),
                        raw(0, "{\"id\":\"m-1\",\"model\":\"spam\",\"label\":\"spam\"}"),
                        raw(1, "{\"id\":\"m-2\",\"model\":\"spam\"}"),
                        raw(2, "{\"id\":\"m-2\",\"model\":\"spam\",\"label\":\"ham\"}"));

        List<OutRecord> letters =
                FeedbackPipeline.attach(answers, feedback, Duration.ofMinutes(1), "dead")
                        .executeAndCollect(10);

        assertThat(letters).hasSize(1);
        DeadLetter letter = RecordCodec.of(DeadLetter.class).decode(letters.get(0).value);
        assertThat(letter.getErrorCode()).isEqualTo(ErrorCode.UNDECODABLE);
        assertThat(letter.getOffset()).isEqualTo(1);
        assertThat(letter.getReason()).contains("\"label\"");
    }

    private static RawRecord raw(long offset, String value) {
        return new RawRecord(
                "sift-feedback", 0, offset, 0, null, value.getBytes(StandardCharsets.UTF_8));
    }
}
