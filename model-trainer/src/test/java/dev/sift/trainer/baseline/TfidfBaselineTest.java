package dev.sift.trainer.baseline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import de.bwaldvogel.liblinear.Feature;
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
    void vectorsAreUnitLengthSublinearAndStayInsideWords() {
        CharNgramTfidf tfidf =
                CharNgramTfidf.fit(List.of("ab cd", "ab cd", "ab ab ab ab cd", "zz"));

        // " zz", "zz ", " z" ... are seen in one text only and dropped.
        assertThat(tfidf.dimension()).isEqualTo(2 * (3 + 2 + 1)); // per word: 3 bigrams, 2, 1
        Feature[] once = tfidf.vector("ab cd");
        Feature[] fourTimes = tfidf.vector("ab ab ab ab cd");
        assertThat(norm(once)).isCloseTo(1, within(1e-12));
        assertThat(norm(fourTimes)).isCloseTo(1, within(1e-12));
        // Shared only inside words: "b " and " c"; across words "b c", "ab c", "b cy"... would be.
        assertThat(CharNgramTfidf.fit(List.of("ab cd", "xb cy")).dimension()).isEqualTo(2);
        // "ab" n-grams weigh (1 + ln 4) times the "cd" ones, which have the same idf.
        assertThat(fourTimes).hasSize(12);
        assertThat(fourTimes[0].getValue() / fourTimes[11].getValue())
                .isCloseTo(1 + Math.log(4), within(1e-9));
        for (int i = 1; i < fourTimes.length; i++) {
            assertThat(fourTimes[i].getIndex()).isGreaterThan(fourTimes[i - 1].getIndex());
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

    private static double norm(Feature[] features) {
        double sum = 0;
        for (Feature f : features) {
            sum += f.getValue() * f.getValue();
        }
        return Math.sqrt(sum);
    }
}
