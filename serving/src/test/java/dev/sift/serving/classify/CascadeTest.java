package dev.sift.serving.classify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sift.model.bundle.Pooling;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.ngram.NgramClassifier;
import dev.sift.model.ngram.TestNgrams;
import dev.sift.model.registry.ModelBundle;
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
 * A cascading version on the tiny encoder: its n-gram model answers the requests it is sure of,
 * only the others reach the encoder, and every result says which stage answered.
 */
class CascadeTest {

    private static final List<String> TEXTS =
            List.of(
                    "win a free cruise now",
                    "free money, call now",
                    "lunch with the team tomorrow",
                    "the team meeting moved to tomorrow",
                    "call the team now",
                    "a free lunch",
                    "money for the meeting",
                    "cruise tomorrow with money",
                    "now or tomorrow",
                    "win the meeting");

    @TempDir Path dir;
    private TestModels models;
    private ModelLoader loader;
    private final List<LoadedModel> loaded = new ArrayList<>();
    private NgramClassifier ngrams;
    private double threshold;

    @BeforeEach
    void publish() throws Exception {
        models = new TestModels(dir);
        loader = new ModelLoader(models.registry());
        ngrams = TestNgrams.random(2, 7);
        // The median confidence: about half the texts go each way.
        double[] confidence =
                TEXTS.stream()
                        .mapToDouble(text -> top(ngrams.probabilities(text)))
                        .sorted()
                        .toArray();
        threshold = confidence[confidence.length / 2];
        assertThat(confidence[0]).as("texts on both sides").isLessThan(threshold);
    }

    @AfterEach
    void release() {
        loaded.forEach(LoadedModel::close);
    }

    @Test
    void sureRecordsAreAnsweredByTheNgramModelAloneAndOnlyTheOthersReachTheEncoder()
            throws Exception {
        LoadedModel cascade = load(models.publishCascading("spam", 3, ngrams, threshold));
        List<ClassifyRequest> requests = new ArrayList<>();
        for (int i = 0; i < TEXTS.size(); i++) {
            requests.add(TestModels.text("r" + i, TEXTS.get(i), "spam"));
        }

        BatchClassifier.Flush flush =
                new BatchClassifier(32, 2048)
                        .classify(
                                requests,
                                null,
                                Map.of("spam", cascade),
                                List.of(),
                                Clock.systemUTC());

        int deferred = 0;
        for (int i = 0; i < TEXTS.size(); i++) {
            ClassificationResult result = flush.outcomes().get(i).results().get(0);
            float[] fromNgrams = ngrams.probabilities(TEXTS.get(i));
            if (top(fromNgrams) >= threshold) {
                assertThat(result.getStage()).as(TEXTS.get(i)).isEqualTo("ngram");
                assertProbabilities(result, fromNgrams);
            } else {
                deferred++;
                assertThat(result.getStage()).as(TEXTS.get(i)).isEqualTo("encoder");
                float[] h =
                        cascade.encoder()
                                .encode(
                                        List.of(cascade.tokenizer().encode(TEXTS.get(i))),
                                        Pooling.CLS)[0];
                assertProbabilities(
                        result,
                        NgramClassifier.blend(cascade.head().probabilities(h), fromNgrams, 0.5));
            }
        }
        assertThat(flush.passes().stream().mapToInt(BatchClassifier.Pass::size).sum())
                .as("inputs the encoder saw")
                .isEqualTo(deferred)
                .isBetween(1, TEXTS.size() - 1);
    }

    @Test
    void aRequestsResultsKeepTheOrderItNamedItsModelsIn() throws Exception {
        LoadedModel cascade = load(models.publishCascading("spam", 3, ngrams, threshold));
        LoadedModel topic = load(models.publish("topic", 4, Pooling.MEAN));
        String sure =
                TEXTS.stream()
                        .filter(text -> top(ngrams.probabilities(text)) >= threshold)
                        .findFirst()
                        .orElseThrow();

        BatchClassifier.Flush flush =
                new BatchClassifier(32, 2048)
                        .classify(
                                List.of(TestModels.text("r", sure, "topic", "spam")),
                                null,
                                Map.of("spam", cascade, "topic", topic),
                                List.of(),
                                Clock.systemUTC());

        assertThat(flush.outcomes().get(0).results())
                .extracting(r -> r.getModel() + ":" + r.getStage())
                .containsExactly("topic:encoder", "spam:ngram");
    }

    private static void assertProbabilities(ClassificationResult result, float[] expected) {
        for (int j = 0; j < expected.length; j++) {
            assertThat(result.getProbabilities().get(j).getProbability())
                    .isCloseTo(expected[j], within(1e-5f));
        }
    }

    private static float top(float[] p) {
        return p[ClassificationHead.argMax(p)];
    }

    private LoadedModel load(ModelBundle bundle) throws Exception {
        LoadedModel model =
                loader.load(
                        loader.verify(bundle.name(), bundle.version(), bundle.manifestSha256()));
        loaded.add(model);
        return model;
    }
}
