package dev.sift.model.encode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.model.tokenize.TokenizedInput;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The encoder's batching contract, on the fast test encoder (same code path as BERT-base). */
class TinyEncoderTest {

    private static EncoderBundle bundle;
    private static Encoder encoder;
    private static BertTokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        bundle = TinyBertEncoder.bundle();
        encoder = TensorFlowEncoder.load(bundle.verify());
        tokenizer = BertTokenizer.load(bundle.tokenizerFile(), TinyBertEncoder.MAX_SEQ_LEN);
    }

    @AfterAll
    static void close() {
        encoder.close();
        tokenizer.close();
    }

    @ParameterizedTest
    @EnumSource(Pooling.class)
    void aVectorIsTheSameAloneAndInAPaddedBatch(Pooling pooling) {
        TokenizedInput shortText = tokenizer.encode("win cash now");
        List<TokenizedInput> batch =
                List.of(
                        tokenizer.encode("the meeting is moved to tomorrow, thanks for the report"),
                        shortText,
                        tokenizer.encodePair("a man plays guitar", "a person plays music"));

        float[] alone = encoder.encode(List.of(shortText), pooling)[0];
        float[] padded = encoder.encode(batch, pooling)[1];

        assertThat(batch.get(0).length()).isGreaterThan(shortText.length());
        assertThat(alone).hasSize(TinyBertEncoder.HIDDEN_SIZE);
        assertThat(Vectors.maxAbsDiff(alone, padded)).isLessThanOrEqualTo(1e-5);
    }

    @Test
    void poolingsDifferAndAreDeterministic() {
        List<TokenizedInput> inputs = List.of(tokenizer.encode("free money"));
        EncodedBatch first = encoder.encode(inputs, EnumSet.allOf(Pooling.class));
        EncodedBatch second = encoder.encode(inputs, EnumSet.allOf(Pooling.class));

        assertThat(first.vector(0, Pooling.CLS)).isEqualTo(second.vector(0, Pooling.CLS));
        assertThat(Vectors.maxAbsDiff(first.vector(0, Pooling.CLS), first.vector(0, Pooling.MEAN)))
                .isGreaterThan(1e-3);
        assertThat(
                        Vectors.maxAbsDiff(
                                first.vector(0, Pooling.CLS), first.vector(0, Pooling.POOLER)))
                .isGreaterThan(1e-3);
    }

    @Test
    void clsAndPooledPassesLeaveTheSequenceOutputInTheEngine() {
        List<TokenizedInput> inputs =
                List.of(
                        tokenizer.encode("the meeting is moved to tomorrow, thanks for the report"),
                        tokenizer.encode("win cash now"));
        EncodedBatch lean = encoder.encode(inputs, EnumSet.of(Pooling.CLS, Pooling.POOLER));
        EncodedBatch full = encoder.encode(inputs, EnumSet.of(Pooling.CLS, Pooling.MEAN));
        int b = inputs.size();
        int t = lean.batch().length();
        int d = TinyBertEncoder.HIDDEN_SIZE;

        assertThat(lean.heapBytes()).isEqualTo(4L * (b * d + b * d));
        assertThat(full.heapBytes()).isEqualTo(4L * b * t * d);
        // The natively sliced [CLS] rows are exactly row 0 of the whole sequence output.
        for (int i = 0; i < b; i++) {
            assertThat(lean.vector(i, Pooling.CLS)).isEqualTo(full.vector(i, Pooling.CLS));
        }
    }

    @Test
    void aPassServesOnlyThePoolingsItWasAskedFor() {
        EncodedBatch cls =
                encoder.encode(List.of(tokenizer.encode("free money")), EnumSet.of(Pooling.CLS));

        assertThat(cls.poolings()).containsExactly(Pooling.CLS);
        assertThatThrownBy(() -> cls.vector(0, Pooling.MEAN))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not MEAN");
        assertThatThrownBy(
                        () ->
                                encoder.encode(
                                        List.of(tokenizer.encode("x")),
                                        EnumSet.noneOf(Pooling.class)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void paddingToTheBatchOwnLongestSequence() {
        PaddedBatch batch =
                PaddedBatch.of(
                        List.of(
                                tokenizer.encode("hello"),
                                tokenizer.encode("hello world good day")));

        assertThat(batch.length()).isEqualTo(6); // [CLS] hello world good day [SEP]
        assertThat(batch.mask()).containsExactly(1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1);
        assertThat(batch.paddingEfficiency()).isEqualTo(9.0 / 12);
    }

    @Test
    void refusesSequencesLongerThanTheEncoderTakes() {
        int[] ids = new int[TinyBertEncoder.MAX_SEQ_LEN + 1];
        TokenizedInput tooLong = new TokenizedInput(ids, new int[ids.length]);

        assertThatThrownBy(() -> encoder.encode(List.of(tooLong), Pooling.CLS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("exceeds the encoder's maximum of 64");
    }

    @Test
    void sharedEncodersAreLoadedOncePerHashAndReleasedWithTheLastLease() throws Exception {
        int before = SharedEncoders.loadedCount();
        try (SharedEncoders.Lease a = SharedEncoders.acquire(bundle);
                SharedEncoders.Lease b = SharedEncoders.acquire(bundle)) {
            assertThat(a.encoder()).isSameAs(b.encoder());
            // Measured once, when the encoder loaded, and shared by every lease.
            assertThat(a.passCost()).isSameAs(b.passCost());
            assertThat(a.passCost().millisPerToken()).isPositive();
            assertThat(SharedEncoders.loadedCount()).isEqualTo(before + 1);
        }
        assertThat(SharedEncoders.loadedCount()).isEqualTo(before);
    }
}
