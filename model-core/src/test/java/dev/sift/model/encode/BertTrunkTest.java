package dev.sift.model.encode;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.testing.RealBert;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.model.tokenize.TokenizedInput;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The trunk fetch on Google's BERT-base: its bottom 12 - K layers, fed through the top K layers and
 * the pooler rebuilt from the SavedModel's weights, give the encoder's own {@code h_CLS} and pooled
 * vectors (the parity serving relies on), and a trunk-only pass runs only the trunk's layers, which
 * the printed timings show.
 */
@Tag("bert")
class BertTrunkTest {

    /**
     * Largest difference allowed on any value of {@code h_CLS} or the pooled vector. The rebuilt
     * top sums in another order than the SavedModel's kernels; measured here (float32): K=1 h_CLS
     * 2.9e-6, pooled 7.2e-7; K=2 h_CLS 3.8e-6, pooled 1.2e-6. Reading the trunk one layer off errs
     * by more than 1.
     */
    private static final float TOLERANCE = 1e-5f;

    private static final String TEXT =
            "The build on the release branch fails since yesterday's merge; can you look at the"
                    + " linker errors before the freeze? Congratulations, you have been selected"
                    + " to receive a free cruise to the Bahamas: call now to claim your prize,"
                    + " offer ends soon. Lunch at noon on Friday with the whole team, bring the"
                    + " quarterly report and the slides for the customer meeting next week.";

    private static EncoderBundle bundle;
    private static Encoder encoder;
    private static PaddedBatch batch;

    @BeforeAll
    static void load() throws Exception {
        bundle = RealBert.bundle();
        encoder = TensorFlowEncoder.load(bundle);
        try (BertTokenizer tokenizer = BertTokenizer.load(bundle.tokenizerFile(), 128)) {
            List<TokenizedInput> inputs = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                // Different lengths, so the batch holds padding the top must mask.
                inputs.add(tokenizer.encode(TEXT.substring(0, TEXT.length() - 30 * i)));
            }
            batch = PaddedBatch.of(inputs);
        }
    }

    @AfterAll
    static void close() {
        if (encoder != null) {
            encoder.close();
        }
    }

    @ParameterizedTest(name = "top {0} layer(s)")
    @ValueSource(ints = {1, 2})
    void trunkThroughTheRebuiltTopGivesTheEncodersVectors(int topLayers) {
        int trunk = encoder.manifest().transformerLayers() - topLayers;
        TrunkParity.Differences differences = TrunkParity.measure(encoder, bundle, batch, trunk);
        System.out.printf(
                "BERT-base, trunk %d + rebuilt top %d: h_CLS within %.2g, pooled within %.2g%n",
                trunk, topLayers, differences.cls(), differences.pooled());
        assertThat(differences.worst()).isLessThanOrEqualTo(TOLERANCE);
    }

    /**
     * Prints what a trunk-only pass costs beside a full one; timings are not asserted. Each pass is
     * timed in turn, round after round, and the fastest of each kind counts: on a machine shared
     * with other work the minimum is the figure least disturbed by it.
     */
    @Test
    void aTrunkOnlyPassCostsLessThanAFullOne() {
        Set<Pooling> cls = EnumSet.of(Pooling.CLS);
        Map<String, Runnable> passes = new LinkedHashMap<>();
        passes.put("full pass (h_CLS)", () -> encoder.encode(batch, cls));
        for (int trunk : new int[] {11, 10, 8, 1}) {
            passes.put("trunk " + trunk + " only", () -> encoder.encode(batch, Set.of(), trunk));
        }
        passes.put("full pass + trunk 10", () -> encoder.encode(batch, cls, 10));
        // Two splits (K=1 and K=2 models) in one run: the layers run once, up to layer 11.
        passes.put("trunks 10 + 11 only", () -> encoder.encode(batch, Set.of(), Set.of(10, 11)));
        passes.put("full + trunks 10, 11", () -> encoder.encode(batch, cls, Set.of(10, 11)));
        Map<String, Double> fastest = new LinkedHashMap<>();
        for (int round = 0; round < 6; round++) {
            for (Map.Entry<String, Runnable> pass : passes.entrySet()) {
                long start = System.nanoTime();
                pass.getValue().run();
                double ms = (System.nanoTime() - start) / 1e6;
                if (round > 0) { // the first round warms up
                    fastest.merge(pass.getKey(), ms, Math::min);
                }
            }
        }
        double full = fastest.get("full pass (h_CLS)");
        StringBuilder report =
                new StringBuilder(
                        String.format(
                                "BERT-base, %d x %d tokens, on %s, fastest of 5:",
                                batch.size(), batch.length(), encoder.device()));
        fastest.forEach(
                (name, ms) ->
                        report.append(
                                String.format(
                                        "%n  %-22s %6.0f ms  %.2f of full", name, ms, ms / full)));
        System.out.println(report);
        assertThat(encoder.encode(batch, Set.of(), 10).trunk())
                .hasSize(batch.size() * batch.length() * 768);
    }
}
