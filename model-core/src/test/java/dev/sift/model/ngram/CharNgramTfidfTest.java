package dev.sift.model.ngram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class CharNgramTfidfTest {

    @Test
    void vectorsAreUnitLengthSublinearAndStayInsideWords() {
        CharNgramTfidf tfidf =
                CharNgramTfidf.fit(List.of("ab cd", "ab cd", "ab ab ab ab cd", "zz"));

        // " zz", "zz ", " z" ... are seen in one text only and dropped.
        assertThat(tfidf.dimension()).isEqualTo(2 * (3 + 2 + 1)); // per word: 3 bigrams, 2, 1
        CharNgramTfidf.SparseVector once = tfidf.vector("ab cd");
        CharNgramTfidf.SparseVector fourTimes = tfidf.vector("ab ab ab ab cd");
        assertThat(norm(once)).isCloseTo(1, within(1e-12));
        assertThat(norm(fourTimes)).isCloseTo(1, within(1e-12));
        // Shared only inside words: "b " and " c"; across words "b c", "ab c", "b cy"... would be.
        assertThat(CharNgramTfidf.fit(List.of("ab cd", "xb cy")).dimension()).isEqualTo(2);
        // "ab" n-grams weigh (1 + ln 4) times the "cd" ones, which have the same idf.
        assertThat(fourTimes.indices()).hasSize(12);
        assertThat(fourTimes.values()[0] / fourTimes.values()[11])
                .isCloseTo(1 + Math.log(4), within(1e-9));
        for (int i = 1; i < fourTimes.indices().length; i++) {
            assertThat(fourTimes.indices()[i]).isGreaterThan(fourTimes.indices()[i - 1]);
        }
    }

    @Test
    void rebuiltFromItsPartsItGivesTheSameVectors() {
        // "money" and "now" are in three texts, "free" in two: their idf differ.
        CharNgramTfidf fitted =
                CharNgramTfidf.fit(List.of("free money now", "money now", "now", "free money"));
        String[] ngrams = new String[fitted.dimension()];
        double[] idf = new double[fitted.dimension()];
        for (int i = 0; i < ngrams.length; i++) {
            ngrams[i] = fitted.ngram(i);
            idf[i] = fitted.idf(i);
        }

        CharNgramTfidf rebuilt = new CharNgramTfidf(ngrams, idf);

        CharNgramTfidf.SparseVector expected = fitted.vector("Money now, free!");
        CharNgramTfidf.SparseVector actual = rebuilt.vector("Money now, free!");
        assertThat(actual.indices()).containsExactly(expected.indices());
        assertThat(actual.values()).containsExactly(expected.values());
    }

    private static double norm(CharNgramTfidf.SparseVector vector) {
        double sum = 0;
        for (double v : vector.values()) {
            sum += v * v;
        }
        return Math.sqrt(sum);
    }
}
