package dev.sift.trainer.baseline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import de.bwaldvogel.liblinear.Linear;
import de.bwaldvogel.liblinear.Model;
import dev.sift.model.ngram.CharNgramTfidf;
import dev.sift.model.ngram.NgramClassifier;
import dev.sift.trainer.TinyData;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.data.Splits;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TfidfBaselineTest {

    private static final List<String> LABELS = List.of("ham", "spam");

    @Test
    void learnsInformativeWordsAndIsFarAboveChance() {
        Splits splits = Splits.stratified(TinyData.spamAndHam(60, 3), 0.1, 0.2, 42);

        TfidfBaseline.Result result =
                TfidfBaseline.fit(splits.train(), splits.validation(), splits.test(), LABELS, 42);

        assertThat(result.testProbabilities().length).isEqualTo(24);
        for (float[] p : result.testProbabilities()) {
            assertThat(p[0] + p[1]).isCloseTo(1f, within(1e-5f));
        }
        assertThat(accuracy(result, splits.test())).isGreaterThanOrEqualTo(0.95);
        assertThat(logLoss(result, splits.test())).isLessThan(Math.log(2));
        assertThat(TfidfBaseline.COSTS).contains(result.cost());
        assertThat(result.description()).contains("TF-IDF char 2-5-grams").contains("whole text");
    }

    @Test
    void withShuffledLabelsItIsNoBetterThanChance() {
        // The same texts with labels assigned at random: nothing to learn, so a baseline that
        // looked at the test labels (or leaked them through the vocabulary) would show here.
        List<Example> examples = TinyData.spamAndHam(100, 5);
        List<String> labels = new ArrayList<>(examples.stream().map(Example::label).toList());
        Collections.shuffle(labels, new Random(9));
        List<Example> shuffled = new ArrayList<>();
        for (int i = 0; i < examples.size(); i++) {
            shuffled.add(Example.text(examples.get(i).text(), labels.get(i)));
        }
        Splits splits = Splits.stratified(shuffled, 0.1, 0.3, 42);

        TfidfBaseline.Result result =
                TfidfBaseline.fit(splits.train(), splits.validation(), splits.test(), LABELS, 42);

        assertThat(accuracy(result, splits.test())).isBetween(0.3, 0.7);
    }

    @Test
    void pairsAreReadWhole() {
        Example pair = new Example("first part", "second part", "x", null);

        assertThat(TfidfBaseline.text(pair)).isEqualTo("first part [SEP] second part");
    }

    @Test
    void itsClassifierGivesLiblinearsProbabilitiesOnTwoAndThreeLabels() {
        List<Example> two = TinyData.spamAndHam(40, 11);
        List<Example> three = new ArrayList<>(two);
        for (int i = 0; i < 30; i++) {
            three.add(Example.text("meeting minutes agenda item " + i + " budget review", "work"));
        }
        for (List<Example> data : List.of(two, three)) {
            List<String> labels = data.stream().map(Example::label).distinct().sorted().toList();
            CharNgramTfidf tfidf =
                    CharNgramTfidf.fit(data.stream().map(TfidfBaseline::text).toList());
            Model model = TfidfBaseline.train(TfidfBaseline.problem(tfidf, data, labels), 10, 42);
            NgramClassifier classifier = TfidfBaseline.classifier(tfidf, model, labels.size());

            double[] expected = new double[labels.size()];
            for (String text :
                    List.of(
                            data.get(0).text(),
                            data.get(data.size() - 1).text(),
                            "an unseen text: FREE prize, meeting at noon")) {
                Linear.predictProbability(
                        model,
                        TfidfBaseline.features(tfidf.vector(text), tfidf.dimension()),
                        expected);
                float[] actual = classifier.probabilities(text);
                for (int c = 0; c < expected.length; c++) {
                    // Same operations in the same order: equal to the last bit of a float.
                    assertThat(actual[model.getLabels()[c]]).isEqualTo((float) expected[c]);
                }
            }
        }
    }

    private static double accuracy(TfidfBaseline.Result result, List<Example> test) {
        int correct = 0;
        for (int i = 0; i < test.size(); i++) {
            float[] p = result.testProbabilities()[i];
            correct += LABELS.get(p[1] > p[0] ? 1 : 0).equals(test.get(i).label()) ? 1 : 0;
        }
        return (double) correct / test.size();
    }

    private static double logLoss(TfidfBaseline.Result result, List<Example> test) {
        double loss = 0;
        for (int i = 0; i < test.size(); i++) {
            loss -= Math.log(result.testProbabilities()[i][LABELS.indexOf(test.get(i).label())]);
        }
        return loss / test.size();
    }
}
