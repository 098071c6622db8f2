package dev.sift.job.infer;

import static dev.sift.job.infer.OperatorHarnesses.awaitLoads;
import static dev.sift.job.infer.OperatorHarnesses.operator;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.job.sink.OutRecord;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.EncodedBatch;
import dev.sift.model.encode.Encoder;
import dev.sift.model.encode.PaddedBatch;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.finetune.Top;
import dev.sift.model.finetune.TopBatch;
import dev.sift.model.finetune.TopModel;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.model.tokenize.TokenizedInput;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.models.LoadedModel;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.serving.testing.TestModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fine-tuned models in the job, on the tiny layered test encoder: they share one trunk pass with
 * each other and with head-only models, give what the trainer's {@link TopModel} gives, and swap,
 * roll back and free their tops like heads.
 */
class FineTunedServingTest {

    private static final RecordCodec<ClassificationResult> RESULTS =
            RecordCodec.of(ClassificationResult.class);

    /** Different lengths, so the job pads them in one batch where the reference runs each alone. */
    private static final List<String> TEXTS =
            List.of(
                    "free cash now",
                    "the project report for the meeting tomorrow is good thanks",
                    "hi",
                    "please click now to win free money and a great prize today");

    @TempDir Path dir;
    private TestModels models;
    @RegisterExtension final OperatorHarnesses harnesses = new OperatorHarnesses();

    @BeforeEach
    void registry() throws Exception {
        models = new TestModels(dir);
    }

    @Test
    void twoFineTunedModelsAndAHeadShareOneTrunkPassPerBatch() throws Exception {
        models.publish("head", 1, Pooling.CLS);
        models.publishFineTuned("tuned-a", 2, 1, Pooling.CLS);
        models.publishFineTuned("tuned-b", 3, 1, Pooling.POOLER);
        var harness = harnesses.open(settings(TEXTS.size()));

        for (int i = 0; i < TEXTS.size(); i++) {
            harness.processElement1(request("r" + i, TEXTS.get(i)));
        }

        assertThat(results(harness)).hasSize(3 * TEXTS.size());
        InferenceMetrics metrics = operator(harness).metrics();
        assertThat(metrics.encoderPasses.getCount()).as("encoder passes").isEqualTo(1);
        assertThat(metrics.trunkPasses.getCount()).as("trunk passes").isEqualTo(1);
        assertThat(metrics.topRuns.getCount()).as("top runs").isEqualTo(2);
    }

    /**
     * On the tiny encoder's 3 layers, K=1 splits after layer 2 and K=2 after layer 1: one pass
     * fetches both trunks and the head's pooling, and each top gets the trunk of its own split.
     */
    @Test
    void fineTunedModelsWithDifferentSplitsAndAHeadShareOneEncoderPass() throws Exception {
        ModelBundle head = models.publish("head", 1, Pooling.CLS);
        ModelBundle k1 = models.publishFineTuned("tuned-k1", 2, 1, Pooling.CLS);
        ModelBundle k2 = models.publishFineTuned("tuned-k2", 3, 2, Pooling.CLS);
        var harness = harnesses.open(settings(TEXTS.size()));

        for (int i = 0; i < TEXTS.size(); i++) {
            harness.processElement1(request("r" + i, TEXTS.get(i)));
        }

        List<ClassificationResult> results = results(harness);
        assertThat(results).hasSize(3 * TEXTS.size());
        InferenceMetrics metrics = operator(harness).metrics();
        assertThat(metrics.encoderPasses.getCount()).as("encoder passes").isEqualTo(1);
        assertThat(metrics.trunkPasses.getCount()).as("trunk passes").isEqualTo(1);
        assertThat(metrics.topRuns.getCount()).as("top runs").isEqualTo(2);
        assertEachEqualsTheModelOnItsTextAlone(
                results, Map.of("head", head, "tuned-k1", k1, "tuned-k2", k2));
    }

    /**
     * The trainer scores a text with {@link TopModel} on the trunk the encoder gives for that text
     * alone; the job pads it into a batch with others and trims per model. Within 1e-5.
     */
    @Test
    void fineTunedProbabilitiesEqualTheTopModelsOnEachTextAlone() throws Exception {
        ModelBundle head = models.publish("head", 1, Pooling.MEAN);
        ModelBundle cls = models.publishFineTuned("tuned-cls", 2, 2, Pooling.CLS);
        ModelBundle pooler = models.publishFineTuned("tuned-pooler", 3, 1, Pooling.POOLER);
        ModelBundle mean = models.publishFineTuned("tuned-mean", 4, 2, Pooling.MEAN);
        var harness = harnesses.open(settings(TEXTS.size()));
        for (int i = 0; i < TEXTS.size(); i++) {
            harness.processElement1(request("r" + i, TEXTS.get(i)));
        }
        List<ClassificationResult> results = results(harness);
        assertThat(results).hasSize(4 * TEXTS.size());

        assertEachEqualsTheModelOnItsTextAlone(
                results,
                Map.of("head", head, "tuned-cls", cls, "tuned-pooler", pooler, "tuned-mean", mean));
    }

    /** Each result within 1e-5 of what its model gives for its text alone ({@link #alone}). */
    private void assertEachEqualsTheModelOnItsTextAlone(
            List<ClassificationResult> results, Map<String, ModelBundle> byName) throws Exception {
        String encoderHash = byName.values().iterator().next().manifest().encoder().contentHash();
        EncoderBundle encoder = models.registry().encoder(encoderHash);
        try (Encoder reference = TensorFlowEncoder.load(encoder);
                BertTokenizer tokenizer =
                        BertTokenizer.load(encoder.tokenizerFile(), TinyBertEncoder.MAX_SEQ_LEN)) {
            for (ClassificationResult result : results) {
                int text = Integer.parseInt(result.getId().toString().substring(1));
                TokenizedInput tokens = tokenizer.encode(TEXTS.get(text));
                ModelBundle model = byName.get(result.getModel().toString());
                assertThat(model).as("model %s", result.getModel()).isNotNull();
                float[] expected = alone(reference, model, tokens);
                for (int j = 0; j < expected.length; j++) {
                    assertThat(result.getProbabilities().get(j).getProbability())
                            .as("%s on text %d, label %d", model, text, j)
                            .isCloseTo(expected[j], org.assertj.core.data.Offset.offset(1e-5f));
                }
            }
        }
    }

    @Test
    void swapsAHeadForAFineTunedVersionAndRollsBackFreeingItsTop() throws Exception {
        ModelBundle v1 = models.publish("spam", 1, Pooling.CLS);
        var harness = harnesses.open(settings(1));
        ModelBundle v2 = models.publishFineTuned("spam", 2, 2, Pooling.CLS);

        harness.processElement2(announce(v2, ModelAction.ACTIVATE));
        awaitLoads(harness);
        harness.processElement1(request("a", "free cash"));
        LoadedModel tuned = operator(harness).models().serving().get("spam");
        assertThat(tuned.fineTuned()).isTrue();
        Top top = tuned.top();

        harness.processElement2(announce(v1, ModelAction.ROLL_BACK));
        awaitLoads(harness);
        harness.processElement1(request("b", "free cash"));

        assertThat(results(harness))
                .extracting(ClassificationResult::getModelVersion)
                .containsExactly(2L, 1L);
        assertThat(operator(harness).models().serving().get("spam").fineTuned()).isFalse();
        assertThat(operator(harness).metrics().topRuns.getCount()).isEqualTo(1);
        // The replaced version's top was closed: its TensorFlow session is gone.
        TopBatch batch =
                new TopBatch(1, 1, new float[TinyBertEncoder.HIDDEN_SIZE], new int[] {1}, null);
        assertThatThrownBy(() -> top.run(batch)).isInstanceOf(IllegalStateException.class);
    }

    /** What {@code model} gives for {@code tokens} alone, unpadded, as the trainer computes it. */
    private static float[] alone(Encoder encoder, ModelBundle model, TokenizedInput tokens) {
        PaddedBatch batch = PaddedBatch.of(List.of(tokens));
        Pooling pooling = model.manifest().pooling();
        if (!model.isFineTuned()) {
            return model.head()
                    .probabilities(encoder.encode(batch, EnumSet.of(pooling)).vector(0, pooling));
        }
        int split = model.manifest().fineTune().trunkLayers();
        EncodedBatch encoded = encoder.encode(batch, Set.of(), split);
        try (TopModel top = TopModel.of(model.topWeights())) {
            return top.run(
                            new TopBatch(
                                    1,
                                    tokens.length(),
                                    encoded.trunk(),
                                    new int[] {tokens.length()},
                                    null))
                    .probabilities()[0];
        }
    }

    private InferenceSettings settings(int batchSize) {
        return InferenceSettings.builder()
                .registry(dir.toString())
                .maxBatchSize(batchSize)
                .maxBatchTokens(10_000)
                .batchLookAhead(1) // flush as soon as one pass's worth waits
                .maxWaitMillis(60_000)
                .resultsTopic("results")
                .deadLetterTopic("dead-letters")
                .build();
    }

    private static StreamRecord<ClassifyRequest> request(String id, String text) {
        return new StreamRecord<>(TestModels.text(id, text));
    }

    private static StreamRecord<byte[]> announce(ModelBundle bundle, ModelAction action) {
        return new StreamRecord<>(TestModels.encode(TestModels.announcement(bundle, action)));
    }

    private static List<ClassificationResult> results(
            TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> harness)
            throws Exception {
        List<ClassificationResult> results = new ArrayList<>();
        for (OutRecord record : harness.extractOutputValues()) {
            assertThat(record.topic).isEqualTo("results");
            results.add(RESULTS.decode(record.value));
        }
        return results;
    }
}
