package dev.sift.model.encode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderEngine;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.testing.TinyOnnxEncoder;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.model.tokenize.TokenizedInput;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ONNX Runtime through DJL, against the same graph computed in Java. */
class OnnxEncoderTest {

    @TempDir static Path registry;

    private static EncoderBundle bundle;
    private static Encoder encoder;
    private static BertTokenizer tokenizer;
    private static final TinyOnnxEncoder REFERENCE = TinyOnnxEncoder.weights();

    @BeforeAll
    static void load() throws Exception {
        bundle = TinyOnnxEncoder.buildInto(registry.resolve("encoders")).verify();
        encoder = Encoders.load(bundle);
        tokenizer = BertTokenizer.load(bundle.tokenizerFile(), TinyOnnxEncoder.MAX_SEQ_LEN);
    }

    @AfterAll
    static void close() {
        encoder.close();
        tokenizer.close();
    }

    @Test
    void theManifestNamesTheEngineAndLoadsIt() {
        assertThat(bundle.manifest().runtime()).isEqualTo(EncoderEngine.ONNX_RUNTIME);
        assertThat(bundle.manifest().defaultPooling()).isEqualTo(Pooling.MEAN);
        assertThat(encoder).isInstanceOf(OnnxEncoder.class);
        assertThat(encoder.poolings()).containsExactlyInAnyOrder(Pooling.CLS, Pooling.MEAN);
    }

    @Test
    void everyPositionOfEverySequenceMatchesTheReference() {
        List<TokenizedInput> inputs =
                List.of(
                        tokenizer.encode("the meeting is moved to tomorrow, thanks for the report"),
                        tokenizer.encode("win cash now"),
                        tokenizer.encodePair("a man plays guitar", "a person plays music"));
        PaddedBatch batch = PaddedBatch.of(inputs);
        EncodedBatch encoded = encoder.encode(batch, EnumSet.of(Pooling.CLS, Pooling.MEAN));

        int d = TinyOnnxEncoder.HIDDEN_SIZE;
        for (int b = 0; b < inputs.size(); b++) {
            int t = batch.length();
            int[] ids = slice(batch.ids(), b, t);
            float[][] expected =
                    REFERENCE.reference(
                            ids, slice(batch.mask(), b, t), slice(batch.segments(), b, t));
            float[] mean = new float[d];
            for (int position = 0; position < batch.length(b); position++) {
                for (int j = 0; j < d; j++) {
                    mean[j] += expected[position][j] / batch.length(b);
                }
            }
            assertThat(Vectors.maxAbsDiff(encoded.vector(b, Pooling.CLS), expected[0]))
                    .as("h_CLS of sequence %d", b)
                    .isLessThanOrEqualTo(1e-5);
            assertThat(Vectors.maxAbsDiff(encoded.vector(b, Pooling.MEAN), mean))
                    .as("mean of sequence %d over its %d real positions", b, batch.length(b))
                    .isLessThanOrEqualTo(1e-5);
        }
        // The pair's second segment reaches the graph: its types row differs from the first's.
        assertThat(batch.segments()).contains(1);
    }

    @Test
    void aVectorIsTheSameAloneAndInAPaddedBatch() {
        TokenizedInput shortText = tokenizer.encode("win cash now");
        List<TokenizedInput> batch =
                List.of(tokenizer.encode("the meeting is moved to tomorrow, thanks"), shortText);

        float[] alone = encoder.encode(List.of(shortText), Pooling.MEAN)[0];
        float[] padded = encoder.encode(batch, Pooling.MEAN)[1];

        assertThat(Vectors.maxAbsDiff(alone, padded)).isLessThanOrEqualTo(1e-6);
    }

    @Test
    void refusesThePoolerItHasNot() {
        List<TokenizedInput> inputs = List.of(tokenizer.encode("free money"));
        assertThatThrownBy(() -> encoder.encode(inputs, Pooling.POOLER))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no pooler output");
    }

    @Test
    void refusesABfloat16SessionItCannotHonour() {
        assertThatThrownBy(
                        () -> Encoders.load(bundle, ai.djl.Device.cpu(), EncoderPrecision.BFLOAT16))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ONNX Runtime");
    }

    private static int[] slice(int[] rows, int b, int length) {
        int[] row = new int[length];
        System.arraycopy(rows, b * length, row, 0, length);
        return row;
    }
}
