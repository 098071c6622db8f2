package dev.sift.job.infer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.job.sink.OutRecord;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.ngram.NgramClassifier;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelDraft;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.RealBert;
import dev.sift.model.tokenize.Truncation;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.serving.testing.TestModels;
import dev.sift.trainer.baseline.TfidfBaseline;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.eval.Evaluation;
import dev.sift.trainer.features.FeatureExtractor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Training and serving cannot drift: on the real BERT-base, the probabilities the job emits for a
 * set of texts equal those the trainer computes from its own features (which it batches and pads
 * differently), within 1e-5; under head-and-tail truncation too, where the job must cut long texts
 * exactly as the trainer did; and for a model that blends in a TF-IDF n-gram model, whose share the
 * job must compute on the whole text as the trainer did.
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
        assertJobMatchesTrainer(TEXTS, pooling, 128, Truncation.HEAD);
    }

    @Test
    void headTailModelsReadTheTokensTheTrainerRead() throws Exception {
        // Long enough to be cut at 32 tokens, with their endings far from their starts.
        List<String> longTexts =
                TEXTS.stream().map(t -> t + " " + String.join(" ", TEXTS)).toList();
        Truncation headTail = Truncation.headTail(10);

        float[][] served = assertJobMatchesTrainer(longTexts, Pooling.CLS, 32, headTail);

        // The tail changes what the model reads: the head alone gives other probabilities.
        float[][] headOnly = trainerProbabilities(longTexts, Pooling.CLS, 32, Truncation.HEAD);
        for (int i = 0; i < longTexts.size(); i++) {
            assertThat(Math.abs(served[i][0] - headOnly[i][0]))
                    .as("text %d", i)
                    .isGreaterThan(1e-3f);
        }
    }

    @Test
    void blendedModelsGiveTheTrainersBlend() throws Exception {
        NgramClassifier ngrams = ngramsFittedOn("perl patch for the rules file ");
        double encoderWeight = 0.4;
        float[][] headAlone = trainerProbabilities(TEXTS, Pooling.CLS, 128, Truncation.HEAD);
        float[][] expected = new float[TEXTS.size()][];
        for (int i = 0; i < TEXTS.size(); i++) {
            expected[i] =
                    NgramClassifier.blend(
                            headAlone[i], ngrams.probabilities(TEXTS.get(i)), encoderWeight);
        }
        ModelDraft draft =
                ModelDraft.builder("parity", RealBert.bundle().contentHash())
                        .head(head())
                        .blend(ngrams, encoderWeight)
                        .build();

        float[][] served = assertJobGives(TEXTS, draft, expected);

        // The n-grams move every answer: the head alone is not what was served.
        for (int i = 0; i < TEXTS.size(); i++) {
            assertThat(Math.abs(served[i][0] - headAlone[i][0]))
                    .as("text %d", i)
                    .isGreaterThan(1e-3f);
        }
    }

    /**
     * The n-gram side reads what the trainer's read: the whole text where the encoder reads only
     * its first 128 tokens, and both halves of a pair, joined as the trainer joins them.
     */
    @Test
    void blendedModelsReadTheWholeTextAndBothHalvesOfAPair() throws Exception {
        String longText = String.join(" ", TEXTS) + " " + String.join(" ", TEXTS);
        longText = longText + " " + longText; // well over 128 tokens
        List<Example> inputs =
                List.of(
                        Example.text(longText, "a"),
                        new Example(TEXTS.get(0), TEXTS.get(1), "a", null),
                        new Example(TEXTS.get(2), TEXTS.get(3), "a", null));
        NgramClassifier ngrams = ngramsFittedOn("minutes of the meeting, comments before friday ");
        double encoderWeight = 0.5;
        float[][] headAlone =
                trainerExampleProbabilities(inputs, Pooling.CLS, 128, Truncation.HEAD);
        float[][] expected = new float[inputs.size()][];
        for (int i = 0; i < inputs.size(); i++) {
            Example input = inputs.get(i);
            expected[i] =
                    NgramClassifier.blend(
                            headAlone[i],
                            ngrams.probabilities(NgramClassifier.text(input.text(), input.textB())),
                            encoderWeight);
        }
        ModelDraft draft =
                ModelDraft.builder("parity", RealBert.bundle().contentHash())
                        .head(head())
                        .blend(ngrams, encoderWeight)
                        .build();
        List<ClassifyRequest> requests = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            ClassifyRequest request = TestModels.text("t" + i, inputs.get(i).text());
            request.textB = inputs.get(i).textB();
            requests.add(request);
        }

        assertJobAnswers(requests, draft, expected);

        // Read truncated, the long text would get another n-gram answer.
        String cut = longText.substring(0, longText.length() / 4);
        assertThat(ngrams.probabilities(cut)[0])
                .isNotCloseTo(
                        ngrams.probabilities(longText)[0],
                        org.assertj.core.data.Offset.offset(1e-4f));
    }

    /**
     * {@code sift-trainer predict} answers as the job does, within 1e-6, on BERT-base, and {@code
     * evaluate}'s figures are those of the job's answers.
     */
    @Test
    void trainerPredictAndEvaluateAnswerAsTheJobDoes() throws Exception {
        ModelRegistry registry = RealBert.registryAt(dir.resolve("registry"));
        ModelBundle model = registry.publish(draft(Pooling.CLS, 128, Truncation.HEAD));
        registry.recordAnnouncement(
                model.name(),
                TestModels.encode(TestModels.announcement(model, ModelAction.ACTIVATE)));
        List<ClassifyRequest> requests = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < TEXTS.size(); i++) {
            requests.add(TestModels.text("t" + i, TEXTS.get(i)));
            lines.add(
                    new ObjectMapper()
                            .createObjectNode()
                            .put("id", "t" + i)
                            .put("text", TEXTS.get(i))
                            .toString());
        }
        Path in = Files.write(dir.resolve("requests.jsonl"), lines);
        Path out = dir.resolve("results.jsonl");

        int exit =
                TrainerCommandsTest.trainer(
                        "predict",
                        registry.root(),
                        model.name(),
                        "--input",
                        in.toString(),
                        "--output",
                        out.toString());

        assertThat(exit).isZero();
        List<ClassificationResult> job = JobAnswers.of(registry.root(), requests);
        TrainerCommandsTest.assertSameAnswers(TrainerCommandsTest.read(out), job);

        List<String> labels = model.manifest().labels();
        List<String> labeled = new ArrayList<>();
        int[] y = new int[TEXTS.size()];
        float[][] p = new float[TEXTS.size()][];
        for (int i = 0; i < TEXTS.size(); i++) {
            y[i] = i % labels.size();
            labeled.add(
                    new ObjectMapper()
                            .createObjectNode()
                            .put("text", TEXTS.get(i))
                            .put("label", labels.get(y[i]))
                            .toString());
            p[i] = new float[labels.size()];
            for (int j = 0; j < labels.size(); j++) {
                p[i][j] = job.get(i).getProbabilities().get(j).getProbability();
            }
        }
        Path data = Files.write(dir.resolve("labeled.jsonl"), labeled);
        Path evaluated = dir.resolve("evaluation");
        assertThat(
                        TrainerCommandsTest.trainer(
                                "evaluate",
                                registry.root(),
                                model.name(),
                                "--data",
                                data.toString(),
                                "--out",
                                evaluated.toString()))
                .isZero();
        var written =
                new ObjectMapper()
                        .readTree(evaluated.resolve("evaluation.json").toFile())
                        .path("metrics");
        Evaluation.of(labels, p, y, null)
                .asMetrics()
                .forEach(
                        (metric, value) ->
                                assertThat(written.path(metric).asDouble(Double.NaN))
                                        .as(metric)
                                        .isCloseTo(
                                                value, org.assertj.core.data.Offset.offset(1e-6)));
    }

    /**
     * The trainer's TF-IDF model fitted on three labels: offers ("a"), lunches ("b") and texts
     * starting {@code third} ("c"), a dozen each.
     */
    private static NgramClassifier ngramsFittedOn(String third) {
        List<Example> labeled = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            labeled.add(Example.text("free prize cruise offer number " + i, "a"));
            labeled.add(Example.text("lunch tomorrow with the team " + i, "b"));
            labeled.add(Example.text(third + i, "c"));
        }
        return TfidfBaseline.fit(labeled, labeled, List.of(), List.of("a", "b", "c"), 42)
                .classifier();
    }

    /** Serves {@code texts} through the job and checks each probability; returns them. */
    private float[][] assertJobMatchesTrainer(
            List<String> texts, Pooling pooling, int maxLen, Truncation truncation)
            throws Exception {
        return assertJobGives(
                texts,
                draft(pooling, maxLen, truncation),
                trainerProbabilities(texts, pooling, maxLen, truncation));
    }

    /** Publishes and serves {@code draft}, and checks each probability against {@code expected}. */
    private float[][] assertJobGives(List<String> texts, ModelDraft draft, float[][] expected)
            throws Exception {
        List<ClassifyRequest> requests = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            requests.add(TestModels.text("t" + i, texts.get(i)));
        }
        return assertJobAnswers(requests, draft, expected);
    }

    /** As above, for requests of any kind. */
    private float[][] assertJobAnswers(
            List<ClassifyRequest> texts, ModelDraft draft, float[][] expected) throws Exception {
        ModelRegistry registry = RealBert.registryAt(dir.resolve("registry"));
        ModelBundle model = registry.publish(draft);
        registry.recordAnnouncement(
                model.name(),
                TestModels.encode(TestModels.announcement(model, ModelAction.ACTIVATE)));

        var settings =
                InferenceSettings.builder()
                        .registry(registry.root().toString())
                        .maxBatchSize(texts.size())
                        .batchLookAhead(1) // flush at one batch: the output is read right after
                        .maxBatchTokens(100_000)
                        .maxWaitMillis(1_000)
                        .build();
        float[][] served = new float[texts.size()][];
        try (var harness =
                new TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord>(
                        new InferenceOperator(settings))) {
            harness.open();
            for (ClassifyRequest request : texts) {
                harness.processElement1(new StreamRecord<>(request));
            }
            List<OutRecord> out = harness.extractOutputValues();
            assertThat(out).hasSize(texts.size());
            for (int i = 0; i < texts.size(); i++) {
                ClassificationResult result =
                        RecordCodec.of(ClassificationResult.class).decode(out.get(i).value);
                served[i] = new float[expected[i].length];
                for (int j = 0; j < expected[i].length; j++) {
                    served[i][j] = result.getProbabilities().get(j).getProbability();
                    assertThat(Math.abs(served[i][j] - expected[i][j]))
                            .as("text %d label %d", i, j)
                            .isLessThanOrEqualTo(1e-5f);
                }
            }
        }
        return served;
    }

    /** What the trainer's features give under the test's head. */
    private float[][] trainerProbabilities(
            List<String> texts, Pooling pooling, int maxLen, Truncation truncation)
            throws Exception {
        return trainerExampleProbabilities(
                texts.stream().map(t -> Example.text(t, "ham")).toList(),
                pooling,
                maxLen,
                truncation);
    }

    private float[][] trainerExampleProbabilities(
            List<Example> examples, Pooling pooling, int maxLen, Truncation truncation)
            throws Exception {
        ClassificationHead head = head();
        try (FeatureExtractor features =
                new FeatureExtractor(
                        RealBert.bundle(), maxLen, truncation, 2, dir.resolve("features"), null)) {
            float[][] vectors = features.vectors(examples, pooling);
            float[][] probabilities = new float[vectors.length][];
            for (int i = 0; i < vectors.length; i++) {
                probabilities[i] = head.probabilities(vectors[i]);
            }
            return probabilities;
        }
    }

    private static ModelDraft draft(Pooling pooling, int maxLen, Truncation truncation) {
        return ModelDraft.builder("parity", RealBert.bundle().contentHash())
                .head(head())
                .pooling(pooling)
                .maxSeqLen(maxLen)
                .truncation(truncation)
                .build();
    }

    private static ClassificationHead head() {
        Random random = new Random(11);
        float[] w = new float[768 * 3];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * 0.2);
        }
        return new ClassificationHead(w, new float[] {0.2f, 0, -0.2f}, List.of("a", "b", "c"));
    }
}
