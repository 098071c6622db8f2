package dev.sift.job.infer;

import static dev.sift.job.infer.OperatorHarnesses.operator;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.job.SiftJob;
import dev.sift.job.config.SiftOptions;
import dev.sift.job.sink.OutRecord;
import dev.sift.model.bundle.Pooling;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.serving.testing.TestModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The buffer's look-ahead window on the tiny encoder: with room for several passes, the planner
 * sorts lengths across them, so a burst that interleaves two very different lengths runs in passes
 * of one length each; with a window of one pass it cannot.
 */
class BatchLookAheadTest {

    private static final RecordCodec<ClassificationResult> RESULTS =
            RecordCodec.of(ClassificationResult.class);

    /** [CLS] ok [SEP]: 3 tokens. */
    private static final String SHORT = "ok";

    /** 48 words, 50 tokens: padding a short text up to it costs 47 slots. */
    private static final String LONG = "the report is good ".repeat(12).trim();

    private static final int PASS = 4;

    @TempDir Path dir;
    @RegisterExtension final OperatorHarnesses harnesses = new OperatorHarnesses();

    @BeforeEach
    void publish() throws Exception {
        new TestModels(dir).publish("spam", 1, Pooling.CLS);
    }

    @Test
    void aWindowOfTwoPassesServesAnInterleavedBurstInPassesOfOneLength() throws Exception {
        var harness = harnesses.open(settings(2));

        List<String> ids = sendInterleavedBurst(harness, 4 * PASS);

        // Two flushes of 8 (4 short, 4 long): each runs a pass of the shorts and one of the longs.
        assertThat(resultIds(harness)).containsExactlyElementsOf(ids);
        InferenceMetrics metrics = operator(harness).metrics();
        assertThat(metrics.encoderPasses.getCount()).as("encoder passes").isEqualTo(4);
        assertThat(paddingEfficiencies(metrics))
                .as("padding efficiency per pass")
                .containsOnly(100L);
        assertThat(batchSizes(metrics)).as("inputs per pass").containsOnly((long) PASS);
    }

    @Test
    void aWindowOfOnePassMustPadOrSplitTheSameBurst() throws Exception {
        var harness = harnesses.open(settings(1));

        List<String> ids = sendInterleavedBurst(harness, 4 * PASS);

        // Four flushes of 2 short + 2 long: each either pads the shorts to 50 tokens in one pass
        // or splits into two half-full passes.
        assertThat(resultIds(harness)).containsExactlyElementsOf(ids);
        InferenceMetrics metrics = operator(harness).metrics();
        boolean padded = paddingEfficiencies(metrics).stream().anyMatch(p -> p < 100);
        boolean moreOrSmallerPasses = metrics.encoderPasses.getCount() > 4;
        assertThat(padded || moreOrSmallerPasses)
                .as(
                        "padded (%s%%) or split (%d passes of %s)",
                        paddingEfficiencies(metrics),
                        metrics.encoderPasses.getCount(),
                        batchSizes(metrics))
                .isTrue();
    }

    @Test
    void noRequestIsLostOrDuplicatedAcrossSizeDeadlineAndBarrierFlushes() throws Exception {
        var harness = harnesses.open(settings(3));
        harness.setProcessingTime(1_000);

        // 3 passes' worth is 12: one size flush at 12, then 5 wait for the deadline.
        List<String> ids = new ArrayList<>(sendInterleavedBurst(harness, 17));
        assertThat(resultIds(harness)).hasSize(12);
        harness.setProcessingTime(1_000 + 50);
        assertThat(resultIds(harness)).hasSize(17);
        // 2 more wait for the checkpoint barrier.
        for (String id : List.of("x0", "x1")) {
            harness.processElement1(request(id, LONG));
            ids.add(id);
        }
        harness.prepareSnapshotPreBarrier(1);

        assertThat(resultIds(harness)).containsExactlyElementsOf(ids);
        assertThat(operator(harness).metrics().resultsOut.getCount()).isEqualTo(ids.size());
    }

    @Test
    void theTokenBudgetScalesWithTheWindow() throws Exception {
        // 2 passes of 60 tokens: the second long text (50 + 50) does not reach 120, the third does.
        var harness =
                harnesses.open(
                        settings(2).toBuilder().maxBatchSize(100).maxBatchTokens(60).build());

        harness.processElement1(request("a", LONG));
        harness.processElement1(request("b", LONG));
        assertThat(resultIds(harness)).isEmpty();
        harness.processElement1(request("c", LONG));

        assertThat(resultIds(harness)).containsExactly("a", "b", "c");
        // Each pass still holds at most 60 padded tokens: one 50-token text each.
        assertThat(batchSizes(operator(harness).metrics())).containsOnly(1L);
    }

    @Test
    void aLookAheadBelowOneIsRefusedWithTheOptionsName() {
        assertThatThrownBy(() -> settings(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sift.batch.look-ahead must be at least 1")
                .hasMessageContaining("not 0");

        Configuration config = new Configuration();
        config.set(SiftOptions.BATCH_LOOK_AHEAD, -2);
        assertThatThrownBy(() -> SiftJob.inferenceSettings(config))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sift.batch.look-ahead must be at least 1")
                .hasMessageContaining("not -2");
    }

    @Test
    void aWindowNoBufferCouldHoldIsRefused() {
        assertThatThrownBy(
                        () ->
                                settings(1).toBuilder()
                                        .maxBatchTokens(1 << 20)
                                        .batchLookAhead(1 << 12)
                                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lower the look-ahead");
    }

    /** Requests r0, r1, ... alternating short and long. */
    private static List<String> sendInterleavedBurst(
            TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> harness,
            int count)
            throws Exception {
        List<String> ids = IntStream.range(0, count).mapToObj(i -> "r" + i).toList();
        for (int i = 0; i < count; i++) {
            harness.processElement1(request(ids.get(i), i % 2 == 0 ? SHORT : LONG));
        }
        return ids;
    }

    private InferenceSettings settings(int lookAhead) {
        return InferenceSettings.builder()
                .registry(dir.toString())
                .maxBatchSize(PASS)
                .batchLookAhead(lookAhead)
                .maxWaitMillis(50)
                .resultsTopic("results")
                .deadLetterTopic("dead-letters")
                .build();
    }

    private static List<Long> paddingEfficiencies(InferenceMetrics metrics) {
        return Arrays.stream(metrics.paddingEfficiencyPct.getStatistics().getValues())
                .boxed()
                .toList();
    }

    private static List<Long> batchSizes(InferenceMetrics metrics) {
        return Arrays.stream(metrics.batchSize.getStatistics().getValues()).boxed().toList();
    }

    private static StreamRecord<ClassifyRequest> request(String id, String text) {
        return new StreamRecord<>(TestModels.text(id, text));
    }

    private static List<String> resultIds(
            TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> harness)
            throws Exception {
        List<String> ids = new ArrayList<>();
        for (OutRecord record : harness.extractOutputValues()) {
            assertThat(record.topic).isEqualTo("results");
            ids.add(RESULTS.decode(record.value).getId());
        }
        return ids;
    }
}
