package dev.sift.model.tokenize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.testing.TinyBertEncoder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Head-and-tail truncation on the tiny encoder's WordPiece tokenizer. */
class TruncationTest {

    private static final int MAX_LEN = 12;

    private static BertTokenizer head;
    private static BertTokenizer headTail;

    @BeforeAll
    static void load() throws Exception {
        EncoderBundle bundle = TinyBertEncoder.bundle();
        head = BertTokenizer.load(bundle.tokenizerFile(), MAX_LEN);
        headTail = BertTokenizer.load(bundle.tokenizerFile(), MAX_LEN, Truncation.headTail(3));
    }

    @AfterAll
    static void close() {
        head.close();
        headTail.close();
    }

    @Test
    void aLongTextKeepsItsFirstTokensAndItsLast() {
        String text = "a b c d e f g h i j k l m n o p q r s t u v w x y z";

        assertThat(headTail.tokens(text))
                .containsExactly(
                        "[CLS]", "a", "b", "c", "t", "u", "v", "w", "x", "y", "z", "[SEP]");
    }

    @Test
    void theHeadStrategyKeepsTheStartAsBefore() {
        String text = "a b c d e f g h i j k l m n o p q r s t u v w x y z";

        assertThat(head.tokens(text))
                .containsExactly(
                        "[CLS]", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "[SEP]");
    }

    @Test
    void idsAndSegmentsAreCutAtTheSamePositionsAsTheTokens() {
        String text = "the cat and the dog of the day to you and me with this on it for that";
        TokenizedInput cut = headTail.encode(text);
        List<String> tokens = headTail.tokens(text);

        assertThat(cut.length()).isEqualTo(MAX_LEN).isEqualTo(tokens.size());
        assertThat(cut.typeIds()).containsOnly(0);
        List<String> wholeTokens = new ArrayList<>();
        try (BertTokenizer wide = load(200)) {
            wholeTokens.addAll(wide.tokens(text));
            TokenizedInput whole = wide.encode(text);
            int tail = MAX_LEN - 2 - 3;
            for (int i = 0; i <= 3; i++) {
                assertThat(cut.ids()[i]).isEqualTo(whole.ids()[i]);
            }
            for (int i = 1; i <= tail + 1; i++) {
                assertThat(cut.ids()[MAX_LEN - i]).isEqualTo(whole.ids()[whole.length() - i]);
            }
        }
        assertThat(tokens.subList(0, 4)).isEqualTo(wholeTokens.subList(0, 4));
        assertThat(tokens.subList(4, MAX_LEN))
                .isEqualTo(
                        wholeTokens.subList(
                                wholeTokens.size() - (MAX_LEN - 4), wholeTokens.size()));
    }

    @Test
    void textsThatFitAndPairsAreCutAsUnderTheHead() {
        String fits = "hello you";
        assertThat(headTail.encode(fits)).isEqualTo(head.encode(fits));

        String first = "a b c d e f g h i j";
        String second = "k l m n o p q r s t";
        assertThat(headTail.encodePair(first, second)).isEqualTo(head.encodePair(first, second));
        assertThat(headTail.encodePair(first, second).length()).isEqualTo(MAX_LEN);
    }

    @Test
    void writtenAndParsedAsHeadOrHeadTailWithItsCount() {
        assertThat(Truncation.parse("head")).isEqualTo(Truncation.HEAD);
        assertThat(Truncation.parse("head-tail:64")).isEqualTo(Truncation.headTail(64));
        assertThat(Truncation.headTail(64).id()).isEqualTo("head-tail:64");
        assertThat(Truncation.HEAD.id()).isEqualTo("head");

        for (String bad : List.of("tail", "head-tail", "head-tail:0", "head-tail:x", "")) {
            assertThatThrownBy(() -> Truncation.parse(bad))
                    .as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("expected 'head' or 'head-tail:N'");
        }
    }

    @Test
    void aHeadThatLeavesNoTailIsRefused() throws Exception {
        assertThatThrownBy(
                        () ->
                                BertTokenizer.load(
                                        TinyBertEncoder.bundle().tokenizerFile(),
                                        MAX_LEN,
                                        Truncation.headTail(MAX_LEN - 2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("leaving no tail")
                .hasMessageContaining("use at most " + (MAX_LEN - 3));
        Truncation.headTail(MAX_LEN - 3).checkFits(MAX_LEN);
    }

    private static BertTokenizer load(int maxLen) {
        try {
            return BertTokenizer.load(TinyBertEncoder.bundle().tokenizerFile(), maxLen);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
