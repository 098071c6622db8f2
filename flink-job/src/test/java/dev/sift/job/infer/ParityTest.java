package dev.sift.job.infer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.job.TestModels;
import dev.sift.job.decode.ClassifyRequest;
import dev.sift.job.sink.OutRecord;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.encode.Pooling;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelDraft;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.RealBert;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.RecordCodec;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.features.FeatureExtractor;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Training and serving cannot drift: on the real BERT-base, the probabilities the job emits for a
 * set of texts equal those the trainer computes from its own features (which it batches and pads
 * differently), within 1e-5.
 */
@Tag("bert")
class ParityTest {

    private static final List<String> TEXTS =
            List.of(
                    "Congratulations! You have been selected to receive a free cruise to the"
                            + " Bahamas. Call now to claim your prize.",
                    "Are we still on for lunch tomorrow?",
                    "Re: [SAtalk] the new rules file breaks on perl 5.6, patch attached",
                    "CHEAP MEDS online no prescription",
                    "Minutes of Tuesday's meeting are in the shared folder; comments welcome"
                            + " before Friday.");

    @TempDir Path dir;

    @ParameterizedTest
    @EnumSource(Pooling.class)
    void jobProbabilitiesEqualTheTrainers(Pooling pooling) throws Exception {
        EncoderBundle encoder = RealBert.bundle();
        ModelRegistry registry = RealBert.registryAt(dir.resolve("registry"));
        ModelBundle model = registry.publish(draft(encoder.contentHash(), pooling));
        registry.recordAnnouncement(
                model.name(),
                TestModels.encode(TestModels.announcement(model, ModelAction.ACTIVATE)));

        float[][] trainerVectors;
        List<Example> examples = TEXTS.stream().map(t -> Example.text(t, "ham")).toList();
        try (FeatureExtractor features =
                new FeatureExtractor(encoder, 128, 2, dir.resolve("features"), null)) {
            trainerVectors = features.vectors(examples, pooling);
        }

        var settings =
                InferenceSettings.builder()
                        .registry(registry.root().toString())
                        .maxBatchSize(TEXTS.size())
                        .maxBatchTokens(100_000)
                        .maxWaitMillis(1_000)
                        .build();
        try (var harness =
                new TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord>(
                        new InferenceOperator(settings))) {
            harness.open();
            for (int i = 0; i < TEXTS.size(); i++) {
                harness.processElement1(new StreamRecord<>(TestModels.text("t" + i, TEXTS.get(i))));
            }
            List<OutRecord> out = harness.extractOutputValues();
            assertThat(out).hasSize(TEXTS.size());
            for (int i = 0; i < TEXTS.size(); i++) {
                ClassificationResult result =
                        RecordCodec.of(ClassificationResult.class).decode(out.get(i).value);
                float[] expected = model.head().probabilities(trainerVectors[i]);
                for (int j = 0; j < expected.length; j++) {
                    assertThat(
                                    Math.abs(
                                            result.getProbabilities().get(j).getProbability()
                                                    - expected[j]))
                            .as("text %d label %d", i, j)
                            .isLessThanOrEqualTo(1e-5f);
                }
            }
        }
    }

    private static ModelDraft draft(String encoderHash, Pooling pooling) {
        Random random = new Random(11);
        float[] w = new float[768 * 3];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * 0.2);
        }
        ClassificationHead head =
                new ClassificationHead(w, new float[] {0.2f, 0, -0.2f}, List.of("a", "b", "c"));
        return new ModelDraft(
                "parity", encoderHash, pooling, 128, head, null, null, null, null, null);
    }
}
