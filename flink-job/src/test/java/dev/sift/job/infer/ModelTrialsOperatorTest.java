package dev.sift.job.infer;

import static dev.sift.job.infer.OperatorHarnesses.awaitLoads;
import static dev.sift.job.infer.OperatorHarnesses.operator;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.job.sink.OutRecord;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.registry.ModelBundle;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.serving.testing.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Shadow and canary versions in the operator: where their answers go, and which records. */
class ModelTrialsOperatorTest {

    private static final RecordCodec<ClassificationResult> RESULTS =
            RecordCodec.of(ClassificationResult.class);
    private static final int MAX_PARALLELISM = 128;

    /** Texts on which the test heads of v1 and v2 agree half of the time. */
    private static final List<String> TEXTS =
            List.of(
                    "free cash offer number 1",
                    "hello friend",
                    "meeting at noon tomorrow",
                    "cheap watches",
                    "win a prize now",
                    "lunch?",
                    "the quarterly report is attached",
                    "click here",
                    "mom says hi",
                    "urgent account verify",
                    "a",
                    "zz top concert tickets");

    @TempDir Path dir;
    private TestModels models;
    private ModelBundle v2;
    @RegisterExtension final OperatorHarnesses harnesses = new OperatorHarnesses();

    @BeforeEach
    void publish() throws Exception {
        models = new TestModels(dir);
        models.publish("spam", 1, Pooling.CLS);
        v2 = models.publishUnannounced("spam", 2, Pooling.CLS);
    }

    @Test
    void shadowAnswersGoToTheShadowTopicNeverToResultsAndAreCounted() throws Exception {
        var harness = harnesses.create(settings().toBuilder().emitAnswers(true).build(), 1, 0);
        harness.open();
        harness.processElement2(announce(v2, ModelAction.SHADOW, null));
        awaitLoads(harness);

        for (int i = 0; i < TEXTS.size(); i++) {
            harness.processElement1(request("mail-" + i, TEXTS.get(i)));
        }
        harness.prepareSnapshotPreBarrier(1);

        Map<String, List<ClassificationResult>> byTopic = byTopic(harness.extractOutputValues());
        assertThat(byTopic.get("results"))
                .hasSize(12)
                .allSatisfy(r -> assertThat(r.getModelVersion()).isEqualTo(1L));
        assertThat(byTopic.get("shadow"))
                .hasSize(12)
                .allSatisfy(r -> assertThat(r.getModelVersion()).isEqualTo(2L));
        long agreeing = 0;
        for (int i = 0; i < 12; i++) {
            agreeing +=
                    byTopic.get("results")
                                    .get(i)
                                    .getLabel()
                                    .equals(byTopic.get("shadow").get(i).getLabel())
                            ? 1
                            : 0;
        }
        assertThat(agreeing)
                .as("v1 and v2 agree on some of these texts, not all")
                .isBetween(1L, 11L);
        var figures = operator(harness).metrics().shadow("spam", 2);
        assertThat(figures.answers()).isEqualTo(12);
        assertThat(figures.compared()).isEqualTo(12);
        assertThat(figures.agreed()).isEqualTo(agreeing);
        assertThat(figures.agreementPct()).isEqualTo(100.0 * agreeing / 12);
        assertThat(operator(harness).metrics().resultsOut.getCount())
                .as("shadow answers are not results")
                .isEqualTo(12);
        assertThat(harness.getSideOutput(InferenceOperator.ANSWERS))
                .as("both versions' answers go to the feedback join")
                .extracting(record -> record.getValue().version)
                .containsOnly(1L, 2L)
                .hasSize(24);

        harness.processElement2(announce(v2, ModelAction.STOP_SHADOW, null));
        harness.processElement1(request("after", "free cash"));
        harness.prepareSnapshotPreBarrier(2);
        assertThat(byTopic(harness.extractOutputValues()).get("shadow")).hasSize(12);
    }

    /**
     * A canary answers the records its hash picks: after a restore into a job of another
     * parallelism, every record gets the version it got before, and over many records the share is
     * close to the announced one.
     */
    @Test
    void aCanaryAnswersTheSameRecordsAcrossARestoreAndARescale() throws Exception {
        var before = harnesses.create(settings(), 1, 0);
        before.open();
        before.processElement2(announce(v2, ModelAction.CANARY, 30.0));
        awaitLoads(before);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            ids.add("mail-" + i);
        }
        Map<String, Long> first = versions(before, ids);
        OperatorSubtaskState snapshot = before.snapshot(1, 1);

        long toCanary = first.values().stream().filter(v -> v == 2L).count();
        assertThat(toCanary).as("about 30%% of 400 records").isBetween(90L, 150L);

        Map<String, Long> after = new HashMap<>();
        for (int subtask = 0; subtask < 3; subtask++) {
            var rescaled = harnesses.create(settings(), 3, subtask);
            rescaled.initializeState(
                    AbstractStreamOperatorTestHarness.repartitionOperatorState(
                            snapshot, MAX_PARALLELISM, 1, 3, subtask));
            rescaled.open();
            after.putAll(versions(rescaled, ids.subList(subtask * 100, subtask * 100 + 200)));
        }
        assertThat(after.keySet()).hasSize(400);
        assertThat(after).isEqualTo(first);
    }

    private Map<String, Long> versions(
            TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> harness,
            List<String> ids)
            throws Exception {
        int seen = harness.extractOutputValues().size();
        for (String id : ids) {
            harness.processElement1(request(id, "cheap watches for " + id));
        }
        harness.prepareSnapshotPreBarrier(7);
        List<OutRecord> out = harness.extractOutputValues();
        Map<String, Long> versions = new HashMap<>();
        for (ClassificationResult result : byTopic(out.subList(seen, out.size())).get("results")) {
            versions.put(result.getId(), result.getModelVersion());
        }
        assertThat(versions).hasSize(ids.size());
        return versions;
    }

    private InferenceSettings settings() {
        return InferenceSettings.builder()
                .registry(dir.toString())
                .maxBatchSize(8)
                .batchLookAhead(1)
                .maxWaitMillis(60_000)
                .resultsTopic("results")
                .deadLetterTopic("dead-letters")
                .shadowTopic("shadow")
                .build();
    }

    private static Map<String, List<ClassificationResult>> byTopic(List<OutRecord> records)
            throws Exception {
        Map<String, List<ClassificationResult>> byTopic = new HashMap<>();
        for (OutRecord record : records) {
            byTopic.computeIfAbsent(record.topic, t -> new ArrayList<>())
                    .add(RESULTS.decode(record.value));
        }
        return byTopic;
    }

    private static StreamRecord<ClassifyRequest> request(String id, String text) {
        ClassifyRequest request = TestModels.text(id, text);
        request.originalKey = id.getBytes(StandardCharsets.UTF_8);
        return new StreamRecord<>(request);
    }

    private static StreamRecord<byte[]> announce(
            ModelBundle bundle, ModelAction action, Double percent) {
        ModelAnnouncement announcement =
                ModelAnnouncement.newBuilder(TestModels.announcement(bundle, action))
                        .setCanaryPercent(percent)
                        .build();
        return new StreamRecord<>(TestModels.encode(announcement));
    }
}
