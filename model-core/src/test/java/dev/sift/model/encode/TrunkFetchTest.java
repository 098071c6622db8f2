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
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The encoder's trunk fetch on the tiny BERT: the bottom layers' output, fed through the top layers
 * rebuilt from the same SavedModel, gives the encoder's own vectors; a trunk-only pass and a pass
 * with poolings return the same trunk; one pass returns the trunks of several depths.
 */
class TrunkFetchTest {

    /**
     * The tiny encoder's layers are built by the same {@code TopLayers} code as the rebuilt top, so
     * both run the same float32 ops in the same order; measured here: 0 on every value. Reading the
     * trunk one layer too high errs by about 2.
     */
    private static final float TOLERANCE = 1e-6f;

    private static EncoderBundle bundle;
    private static Encoder encoder;
    private static PaddedBatch batch;

    @BeforeAll
    static void load() throws Exception {
        bundle = TinyBertEncoder.bundle();
        encoder = TensorFlowEncoder.load(bundle.verify());
        try (BertTokenizer tokenizer =
                BertTokenizer.load(bundle.tokenizerFile(), TinyBertEncoder.MAX_SEQ_LEN)) {
            List<TokenizedInput> inputs =
                    List.of(
                            tokenizer.encode(
                                    "the meeting is moved to tomorrow, thanks for the report"),
                            tokenizer.encode("win cash now"),
                            tokenizer.encodePair("a man plays guitar", "a person plays music"));
            batch = PaddedBatch.of(inputs);
        }
    }

    @AfterAll
    static void close() {
        encoder.close();
    }

    @ParameterizedTest(name = "trunk of {0} layer(s)")
    @ValueSource(ints = {1, 2})
    void trunkThroughTheRebuiltTopGivesTheEncodersVectors(int trunkLayers) {
        assertThat(batch.paddingEfficiency()).as("the batch holds padding").isLessThan(1);
        TrunkParity.Differences differences =
                TrunkParity.measure(encoder, bundle, batch, trunkLayers);
        System.out.printf(
                "Tiny BERT, trunk %d of %d layers + rebuilt top: h_CLS within %.3g, pooled within"
                        + " %.3g%n",
                trunkLayers, TinyBertEncoder.LAYERS, differences.cls(), differences.pooled());
        assertThat(differences.worst()).isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    void aTrunkOnlyPassReturnsTheSameTrunkAsOneWithPoolings() {
        EncodedBatch alone = encoder.encode(batch, Set.of(), 2);
        EncodedBatch withPoolings = encoder.encode(batch, EnumSet.allOf(Pooling.class), 2);

        assertThat(alone.trunkLayers()).isEqualTo(2);
        assertThat(alone.poolings()).isEmpty();
        assertThat(alone.trunk())
                .hasSize(batch.size() * batch.length() * TinyBertEncoder.HIDDEN_SIZE)
                .containsExactly(withPoolings.trunk());
        // The poolings of the combined pass are those of a pass without a trunk.
        EncodedBatch plain = encoder.encode(batch, EnumSet.allOf(Pooling.class));
        for (Pooling pooling : Pooling.values()) {
            assertThat(withPoolings.vectors(pooling)).isDeepEqualTo(plain.vectors(pooling));
        }
        assertThatThrownBy(plain::trunk).hasMessageContaining("no trunk");
    }

    /**
     * One pass for tops with different splits: each trunk it returns is the one a pass of that
     * depth alone returns, and its poolings are those of a plain pass.
     */
    @Test
    void onePassReturnsTheTrunkOfEveryDepthAskedFor() {
        EncodedBatch both = encoder.encode(batch, EnumSet.allOf(Pooling.class), Set.of(2, 1));
        EncodedBatch trunksOnly = encoder.encode(batch, Set.of(), Set.of(1, 2));

        assertThat(both.trunkDepths()).containsExactly(1, 2);
        assertThat(both.trunkLayers()).as("the deepest").isEqualTo(2);
        for (int depth : List.of(1, 2)) {
            float[] alone = encoder.encode(batch, Set.of(), depth).trunk();
            assertThat(both.trunk(depth)).as("trunk %d", depth).containsExactly(alone);
            assertThat(trunksOnly.trunk(depth)).as("trunk %d", depth).containsExactly(alone);
        }
        EncodedBatch plain = encoder.encode(batch, EnumSet.allOf(Pooling.class));
        for (Pooling pooling : Pooling.values()) {
            assertThat(both.vectors(pooling)).isDeepEqualTo(plain.vectors(pooling));
        }
        assertThat(both.heapBytes())
                .isEqualTo(
                        plain.heapBytes()
                                + 2L
                                        * Float.BYTES
                                        * batch.size()
                                        * batch.length()
                                        * TinyBertEncoder.HIDDEN_SIZE);
        assertThatThrownBy(both::trunk).hasMessageContaining("trunk(depth)");
        assertThatThrownBy(() -> both.trunk(3)).hasMessageContaining("not of 3");
    }

    @Test
    void layersOfTheTrunkDiffer() {
        float[] one = encoder.encode(batch, Set.of(), 1).trunk();
        float[] two = encoder.encode(batch, Set.of(), 2).trunk();
        assertThat(Vectors.maxAbsDiff(one, two)).isGreaterThan(0.1);
    }

    @Test
    void aTrunkBeyondTheEncodersLayersIsRefused() {
        assertThatThrownBy(() -> encoder.encode(batch, Set.of(), TinyBertEncoder.LAYERS + 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1 to " + TinyBertEncoder.LAYERS);
        assertThatThrownBy(() -> encoder.encode(batch, Set.of(), 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one pooling");
    }
}
