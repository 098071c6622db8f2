package dev.sift.serving.classify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.model.bundle.Pooling;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.testing.TinyOnnxEncoder;
import dev.sift.model.tokenize.TokenizedInput;
import dev.sift.schemas.ClassificationResult;
import dev.sift.serving.models.LoadedModel;
import dev.sift.serving.models.ModelLoader;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.serving.testing.TestModels;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models on two encoders, the tiny BERT on TensorFlow and the tiny ONNX encoder on ONNX Runtime,
 * served side by side from one batch: one pass on each encoder, each model's answers as its own
 * encoder computes them.
 */
class TwoEncodersTest {

    @TempDir Path dir;
    private final List<LoadedModel> loaded = new ArrayList<>();
    private LoadedModel spam;
    private LoadedModel topic;

    @BeforeEach
    void publishOnBothEncoders() throws Exception {
        TestModels models = new TestModels(dir);
        ModelLoader loader = new ModelLoader(models.registry());
        spam = load(loader, models.publish("spam", 1, Pooling.CLS));
        topic = load(loader, models.publishOnOnnx("topic", 2, Pooling.MEAN));
    }

    @AfterEach
    void release() {
        loaded.forEach(LoadedModel::close);
    }

    @Test
    void oneBatchRunsOnePassOnEachEncoderAndEachModelAnswersFromItsOwn() {
        List<String> texts =
                List.of("win a free cruise now", "the meeting moved to friday", "call me");
        List<ClassifyRequest> requests = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            requests.add(TestModels.text("r" + i, texts.get(i), "spam", "topic"));
        }

        BatchClassifier.Flush flush =
                new BatchClassifier(32, 2048)
                        .classify(
                                requests,
                                null,
                                Map.of("spam", spam, "topic", topic),
                                List.of(),
                                Clock.systemUTC());

        assertThat(flush.passes())
                .extracting(BatchClassifier.Pass::encoder)
                .containsExactlyInAnyOrder("tiny-bert-test", "tiny-onnx-test");
        TinyOnnxEncoder reference = TinyOnnxEncoder.weights();
        for (int i = 0; i < texts.size(); i++) {
            List<ClassificationResult> results = flush.outcomes().get(i).results();
            assertThat(results)
                    .extracting(ClassificationResult::getModel)
                    .containsExactly("spam", "topic");
            TokenizedInput bertTokens = spam.tokenizer().encode(texts.get(i));
            float[] h = spam.encoder().encode(List.of(bertTokens), Pooling.CLS)[0];
            assertProbabilities(results.get(0), spam.head().probabilities(h));
            assertThat(results.get(0).getEncoderHash())
                    .isEqualTo(spam.manifest().encoder().contentHash());

            TokenizedInput onnxTokens = topic.tokenizer().encode(texts.get(i));
            int length = onnxTokens.length();
            float[][] states =
                    reference.reference(onnxTokens.ids(), ones(length), onnxTokens.typeIds());
            float[] mean = new float[TinyOnnxEncoder.HIDDEN_SIZE];
            for (float[] state : states) {
                for (int j = 0; j < mean.length; j++) {
                    mean[j] += state[j] / length;
                }
            }
            assertProbabilities(results.get(1), topic.head().probabilities(mean));
            assertThat(results.get(1).getEncoderHash())
                    .isEqualTo(topic.manifest().encoder().contentHash())
                    .isNotEqualTo(results.get(0).getEncoderHash());
        }
    }

    @Test
    void aRefusedRequestLeavesTheOthersResultsInTheirOrder() {
        List<ClassifyRequest> requests =
                List.of(
                        TestModels.text("unknown", "hello", "sentiment"),
                        TestModels.text("both", "win a free cruise now", "topic", "spam"));

        BatchClassifier.Flush flush =
                new BatchClassifier(32, 2048)
                        .classify(
                                requests,
                                null,
                                Map.of("spam", spam, "topic", topic),
                                List.of(),
                                Clock.systemUTC());

        assertThat(flush.outcomes().get(0).refused()).isTrue();
        assertThat(flush.outcomes().get(1).results())
                .extracting(ClassificationResult::getModel)
                .containsExactly("topic", "spam");
    }

    private static void assertProbabilities(ClassificationResult result, float[] expected) {
        for (int j = 0; j < expected.length; j++) {
            assertThat(result.getProbabilities().get(j).getProbability())
                    .as("%s, label %d", result.getModel(), j)
                    .isCloseTo(expected[j], org.assertj.core.data.Offset.offset(1e-5f));
        }
    }

    private static int[] ones(int length) {
        int[] mask = new int[length];
        java.util.Arrays.fill(mask, 1);
        return mask;
    }

    private LoadedModel load(ModelLoader loader, ModelBundle bundle) throws Exception {
        LoadedModel model =
                loader.load(
                        loader.verify(bundle.name(), bundle.version(), bundle.manifestSha256()));
        loaded.add(model);
        return model;
    }
}
