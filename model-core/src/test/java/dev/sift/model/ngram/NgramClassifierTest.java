package dev.sift.model.ngram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.sift.model.bundle.BundleException;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class NgramClassifierTest {

    @Test
    void twoLabelsAreTheSigmoidOfOneDecisionValue() {
        NgramClassifier model = TestNgrams.random(2, 1);

        float[] p = model.probabilities("free cruise tomorrow");

        CharNgramTfidf.SparseVector x = model.tfidf().vector("free cruise tomorrow");
        double decision = model.weights()[model.tfidf().dimension()] * model.bias();
        for (int j = 0; j < x.indices().length; j++) {
            decision += model.weights()[x.indices()[j]] * x.values()[j];
        }
        // Class 0 of the regression is label 1 here (TestNgrams reverses them).
        assertThat(p[1]).isCloseTo((float) (1 / (1 + Math.exp(-decision))), within(1e-7f));
        assertThat(p[0] + p[1]).isCloseTo(1f, within(1e-7f));
    }

    @Test
    void moreLabelsAreOneVersusRestNormalised() {
        float[] p = TestNgrams.random(3, 2).probabilities("team lunch, free");

        assertThat(p[0] + p[1] + p[2]).isCloseTo(1f, within(1e-6f));
        for (float value : p) {
            assertThat(value).isBetween(0f, 1f);
        }
    }

    @Test
    void theBlendIsAWeightedMeanOfLogOdds() {
        float[] encoder = {0.9f, 0.1f};
        float[] ngrams = {0.2f, 0.8f};

        float[] blended = NgramClassifier.blend(encoder, ngrams, 0.25);

        double logOdds = 0.25 * Math.log(0.9 / 0.1) + 0.75 * Math.log(0.2 / 0.8);
        assertThat(blended[0]).isCloseTo((float) (1 / (1 + Math.exp(-logOdds))), within(1e-6f));
        assertThat(blended[0] + blended[1]).isCloseTo(1f, within(1e-6f));
        assertThat(NgramClassifier.blend(encoder, ngrams, 1)).containsExactly(encoder);
        // A model sure it is right cannot veto the other alone: 0 is read as 1e-7.
        assertThat(NgramClassifier.blend(new float[] {0, 1}, new float[] {1, 0}, 0.5)[0])
                .isCloseTo(0.5f, within(1e-6f));
    }

    @Test
    void itsFileGivesTheSameProbabilitiesBitForBit() throws Exception {
        for (int labels : new int[] {2, 4}) {
            NgramClassifier model = TestNgrams.random(labels, labels);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            NgramFormat.write(model, bytes);

            NgramClassifier read = NgramFormat.fromBytes(bytes.toByteArray());

            for (String text : TestNgrams.TEXTS) {
                assertThat(read.probabilities(text)).containsExactly(model.probabilities(text));
            }
            assertThat(read.classLabels()).containsExactly(model.classLabels());
        }
    }

    @Test
    void theNgramSideReadsABoundedPrefixOfALongTextOrPair() {
        String longText = "win free cash ".repeat(10_000); // 140,000 characters
        assertThat(NgramClassifier.text(longText, null))
                .hasSize(NgramClassifier.MAX_TEXT_CHARS)
                .isEqualTo(longText.substring(0, NgramClassifier.MAX_TEXT_CHARS));
        assertThat(NgramClassifier.text("subject", longText))
                .hasSize(NgramClassifier.MAX_TEXT_CHARS)
                .startsWith("subject");
        // Never half a surrogate pair: an emoji straddling the limit is left out whole.
        String emoji = "x".repeat(NgramClassifier.MAX_TEXT_CHARS - 1) + "\uD83D\uDE00" + "tail";
        assertThat(NgramClassifier.text(emoji, null)).hasSize(NgramClassifier.MAX_TEXT_CHARS - 1);
        assertThat(NgramClassifier.text("short", "pair")).isEqualTo("short [SEP] pair");
    }

    @Test
    void aDamagedFileIsRefusedWithWhatIsWrong() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        NgramFormat.write(TestNgrams.random(2, 3), out);
        byte[] bytes = out.toByteArray();

        assertRefused(Arrays.copyOf(bytes, bytes.length - 5), "weights, which need");
        assertRefused(Arrays.copyOf(bytes, 22), "ends early");
        assertRefused(Arrays.copyOf(bytes, bytes.length + 1), "has bytes after its last weight");
        byte[] magic = bytes.clone();
        magic[0] = 'X';
        assertRefused(magic, "no SIFT_NGR magic");
        byte[] labels = bytes.clone();
        labels[8 + 4 + 8 + 3] = 1; // the label count: 1
        assertRefused(labels, "labels 1 is outside 2..");
        byte[] nan = bytes.clone();
        Arrays.fill(nan, nan.length - 8, nan.length, (byte) 0xff);
        assertRefused(nan, "is NaN");
        // A count the file cannot hold is refused before anything is allocated for it.
        byte[] huge = bytes.clone();
        int classes = java.nio.ByteBuffer.wrap(huge, 24, 4).getInt();
        java.nio.ByteBuffer.wrap(huge, 28 + 4 * classes, 4).putInt(NgramFormat.MAX_FEATURES);
        assertRefused(huge, "claims 50000000 features, which need 500000000 bytes");
    }

    private static void assertRefused(byte[] bytes, String message) {
        assertThatThrownBy(() -> NgramFormat.fromBytes(bytes))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining(message);
    }
}
