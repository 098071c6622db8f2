package dev.sift.model.encode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.model.bert.ImportEncoders;
import dev.sift.model.bert.OnnxEncoderImporter;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.finetune.OnnxTop;
import dev.sift.model.finetune.Top;
import dev.sift.model.finetune.TopBatch;
import dev.sift.model.finetune.TopModel;
import dev.sift.model.finetune.TopSpec;
import dev.sift.model.finetune.TopWeights;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.model.tokenize.TokenizedInput;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * all-MiniLM-L6-v2 from its Maven jars, int8 and float32, on ONNX Runtime: what the int8 graph
 * changes, held to bounds measured on the SpamAssassin mails (docs/model-cards/spam.md: on 200
 * mails the largest change of a mean-pooled coordinate was 0.088 and the lowest cosine 0.982).
 */
class SmallEncoderTest {

    private static final List<String> TEXTS =
            List.of(
                    "Congratulations! You have won a free cruise to the Bahamas, call now",
                    "The meeting about the quarterly report moved to Thursday at ten",
                    "Re: patch for the kernel build failing on ARM",
                    "Lowest mortgage rates in years, refinance today with no fees",
                    "Can you send me the slides from yesterday's talk?",
                    "URGENT: verify your account or it will be suspended",
                    "I pushed the fix; the tests pass on my machine now",
                    "Cheap meds online without prescription, discreet shipping",
                    "Lunch on Friday? The new place near the station is good",
                    "Your invoice #4471 is attached; payment is due in 30 days");

    /** Measured 0.018 on these texts, a trained-like top of three labels. */
    private static final double MAX_PROBABILITY_CHANGE = 0.05;

    @TempDir static Path dir;
    private static Encoder int8;
    private static Encoder float32;
    private static BertTokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        EncoderBundle q = importJar("all-minilm-l6-v2-q.onnx");
        EncoderBundle f = importJar("all-minilm-l6-v2.onnx");
        int8 = Encoders.load(q);
        float32 = Encoders.load(f);
        int8Bundle = q;
        float32Bundle = f;
        tokenizer = BertTokenizer.load(q.tokenizerFile(), 128);
    }

    private static EncoderBundle float32Bundle;
    private static EncoderBundle int8Bundle;

    private static EncoderBundle importJar(String graph) throws Exception {
        Path jar = ImportEncoders.jarOf(SmallEncoderTest.class.getClassLoader().getResource(graph));
        return OnnxEncoderImporter.importJar(jar, dir).verify();
    }

    @AfterAll
    static void close() {
        int8.close();
        float32.close();
        tokenizer.close();
    }

    @Test
    void float32VectorsDoNotDependOnTheirBatch() {
        List<TokenizedInput> inputs = tokenizer.encodeAll(TEXTS);
        float[][] batched = float32.encode(inputs, Pooling.MEAN);
        for (int i = 0; i < inputs.size(); i++) {
            float[] alone = float32.encode(List.of(inputs.get(i)), Pooling.MEAN)[0];
            assertThat(Vectors.maxAbsDiff(alone, batched[i])).as(TEXTS.get(i)).isLessThan(1e-5);
        }
    }

    @Test
    void int8StaysCloseToFloat32() {
        List<TokenizedInput> inputs = tokenizer.encodeAll(TEXTS);
        float[][] q = int8.encode(inputs, Pooling.MEAN);
        float[][] f = float32.encode(inputs, Pooling.MEAN);
        for (int i = 0; i < inputs.size(); i++) {
            assertThat(cosine(q[i], f[i])).as(TEXTS.get(i)).isGreaterThan(0.97);
            assertThat(Vectors.maxAbsDiff(q[i], f[i])).as(TEXTS.get(i)).isLessThan(0.15);
            // The int8 graph quantizes each activation tensor with one scale for the whole batch,
            // so a vector moves a little with its batch-mates; bounded, as measured.
            float[] alone = int8.encode(List.of(inputs.get(i)), Pooling.MEAN)[0];
            assertThat(Vectors.maxAbsDiff(alone, q[i])).as(TEXTS.get(i)).isLessThan(0.15);
        }
    }

    @Test
    void similarTextsAreCloserThanUnrelatedOnes() {
        for (Encoder encoder : List.of(int8, float32)) {
            float[][] v =
                    encoder.encode(
                            tokenizer.encodeAll(
                                    List.of(
                                            "You won a free cruise, call now",
                                            "Claim your free holiday prize today",
                                            "The build fails on ARM after the patch")),
                            Pooling.MEAN);
            assertThat(cosine(v[0], v[1])).isGreaterThan(cosine(v[0], v[2]) + 0.1);
        }
    }

    @Test
    void theTopTwoLayersRebuiltFromTheGraphsWeightsOnItsTrunkGiveTheEncodersOwnVectors()
            throws Exception {
        TopBatch input = trunkOfFourLayers();
        float[][] expected = float32.encode(tokenizer.encodeAll(TEXTS), Pooling.MEAN);
        EncoderManifest m = float32.manifest();
        TopSpec spec =
                TopSpec.top(
                        m.layerShape(), m.transformerLayers(), 2, Pooling.MEAN, 2, m.activation());
        int d = m.hiddenSize();
        TopWeights weights =
                TopWeights.fromOnnx(
                        OnnxGraph.read(float32Bundle.graphFile()),
                        spec,
                        new float[d * 2],
                        new float[2]);
        try (TopModel top = TopModel.of(weights)) {
            Top.Outputs out = top.run(input);
            for (int b = 0; b < input.size(); b++) {
                assertThat(Vectors.maxAbsDiff(out.pooled()[b], expected[b]))
                        .as(TEXTS.get(b))
                        .isLessThan(1e-5f);
            }
        }
    }

    @Test
    void aFineTunedTopOnOnnxRuntimeComputesWhatTheTrainersTensorFlowTopComputes() throws Exception {
        TopBatch input = trunkOfFourLayers();
        float[][] encoders = float32.encode(tokenizer.encodeAll(TEXTS), Pooling.MEAN);
        EncoderManifest m = float32.manifest();
        OnnxGraph graph = OnnxGraph.read(float32Bundle.graphFile());
        for (Pooling pooling : List.of(Pooling.MEAN, Pooling.CLS)) {
            TopSpec spec =
                    TopSpec.top(
                            m.layerShape(), m.transformerLayers(), 2, pooling, 3, m.activation());
            TopWeights trained =
                    trainedLike(
                            TopWeights.fromOnnx(
                                    graph, spec, new float[m.hiddenSize() * 3], new float[3]));
            try (TopModel tensorFlow = TopModel.of(trained);
                    OnnxTop onnx = OnnxTop.build(graph, m.tensors(), trained, 2)) {
                Top.Outputs expected = tensorFlow.run(input);
                Top.Outputs actual = onnx.run(input);
                for (int b = 0; b < input.size(); b++) {
                    assertThat(Vectors.maxAbsDiff(actual.pooled()[b], expected.pooled()[b]))
                            .as(pooling + " " + TEXTS.get(b))
                            .isLessThan(1e-5f);
                    assertThat(
                                    Vectors.maxAbsDiff(
                                            actual.probabilities()[b], expected.probabilities()[b]))
                            .as(pooling + " " + TEXTS.get(b))
                            .isLessThan(1e-5f);
                }
                if (pooling == Pooling.MEAN) { // the trained weights, not the encoder's, served
                    assertThat(Vectors.maxAbsDiff(actual.pooled()[0], encoders[0]))
                            .isGreaterThan(0.01f);
                }
            }
        }
    }

    @Test
    void anInt8TopMultipliesIn8BitsAndStaysCloseToTheFloat32Top() throws Exception {
        TopBatch input = trunkOfFourLayers();
        EncoderManifest m = float32.manifest();
        OnnxGraph graph = OnnxGraph.read(float32Bundle.graphFile());
        TopSpec spec =
                TopSpec.top(
                        m.layerShape(), m.transformerLayers(), 2, Pooling.MEAN, 3, m.activation());

        List<String> matMuls = TopWeights.onnxMatMuls(spec);
        OnnxGraph top =
                OnnxGraph.parse(
                        graph.between(
                                OnnxGraph.layerOutput(3),
                                List.of(m.tensors().sequenceOutput()),
                                Map.of()));
        OnnxGraph int8 = OnnxGraph.parse(top.withInt8MatMuls(matMuls));
        assertThat(int8.nodes().stream().filter(n -> n.opType().equals("MatMulInteger")))
                .hasSize(12);
        assertThat(int8.nodes().stream().filter(n -> n.opType().equals("MatMul")))
                .noneMatch(n -> matMuls.contains(n.name()));
        String queryKernel = top.node(matMuls.get(0)).inputs().get(1);
        assertThat(int8.hasInitializer(queryKernel)).isFalse();
        assertThat(int8.hasInitializer(queryKernel + "_quantized")).isTrue();

        TopWeights trained =
                trainedLike(
                        TopWeights.fromOnnx(
                                graph, spec, new float[m.hiddenSize() * 3], new float[3]));
        try (TopModel float32Top = TopModel.of(trained);
                OnnxTop int8Top = OnnxTop.build(graph, m.tensors(), trained, 2, true)) {
            Top.Outputs expected = float32Top.run(input);
            Top.Outputs actual = int8Top.run(input);
            double largest = 0;
            for (int b = 0; b < input.size(); b++) {
                largest =
                        Math.max(
                                largest,
                                Vectors.maxAbsDiff(
                                        actual.probabilities()[b], expected.probabilities()[b]));
                assertThat(cosine(actual.pooled()[b], expected.pooled()[b]))
                        .as(TEXTS.get(b))
                        .isGreaterThan(0.99);
            }
            // 0 would mean the float32 top ran.
            assertThat(largest).isGreaterThan(1e-4).isLessThan(MAX_PROBABILITY_CHANGE);
        }
    }

    /** MiniLM float32's trunk of four layers for {@link #TEXTS}, as a top reads it. */
    private static TopBatch trunkOfFourLayers() {
        PaddedBatch batch = PaddedBatch.of(tokenizer.encodeAll(TEXTS));
        int[] lengths = new int[batch.size()];
        for (int b = 0; b < lengths.length; b++) {
            lengths[b] = batch.length(b);
        }
        return new TopBatch(
                batch.size(),
                batch.length(),
                float32.encode(batch, Set.of(), Set.of(4)).trunk(4),
                lengths,
                null);
    }

    /**
     * The graph's own weights moved as training moves them, and a head of 3 labels: a top that
     * served the graph's weights, or dropped a layer's, would not match.
     */
    private static TopWeights trainedLike(TopWeights start) {
        Random random = new Random(7);
        Map<String, float[]> values = new LinkedHashMap<>();
        start.spec()
                .parameters()
                .forEach(
                        (name, shape) -> {
                            int size =
                                    Math.toIntExact(
                                            Arrays.stream(shape).reduce(1, (a, b) -> a * b));
                            float[] value =
                                    name.startsWith("head/")
                                            ? new float[size]
                                            : start.get(name).clone();
                            for (int i = 0; i < size; i++) {
                                value[i] += (float) (random.nextGaussian() * 0.05);
                            }
                            values.put(name, value);
                        });
        return TopWeights.of(start.spec(), values);
    }

    @Test
    void aPassThatPoolsAndCutsATrunkGivesWhatSeparatePassesGive() {
        PaddedBatch batch = PaddedBatch.of(tokenizer.encodeAll(TEXTS));
        for (Encoder encoder : List.of(int8, float32)) {
            EncodedBatch both = encoder.encode(batch, Set.of(Pooling.MEAN), Set.of(2, 5));
            EncodedBatch pooled = encoder.encode(batch, Set.of(Pooling.MEAN));
            for (int depth : List.of(2, 5)) {
                float[] alone = encoder.encode(batch, Set.of(), Set.of(depth)).trunk(depth);
                assertThat(Vectors.maxAbsDiff(both.trunk(depth), alone)).isLessThan(1e-5f);
            }
            for (int b = 0; b < batch.size(); b++) {
                assertThat(
                                Vectors.maxAbsDiff(
                                        both.vector(b, Pooling.MEAN),
                                        pooled.vector(b, Pooling.MEAN)))
                        .isLessThan(1e-5f);
            }
            assertThat(Vectors.maxAbsDiff(both.trunk(2), both.trunk(5))).isGreaterThan(0.1f);
        }
    }

    @Test
    void fineTuningStartsOnlyFromFloat32WeightsAndTheEncodersActivation() throws Exception {
        EncoderManifest m = int8.manifest();
        TopSpec erf =
                TopSpec.top(
                        m.layerShape(), m.transformerLayers(), 1, Pooling.MEAN, 2, m.activation());
        int d = m.hiddenSize();
        assertThatThrownBy(
                        () ->
                                TopWeights.fromOnnx(
                                        OnnxGraph.read(int8Bundle.graphFile()),
                                        erf,
                                        new float[d * 2],
                                        new float[2]))
                .hasMessageContaining("float32 import");
        TopSpec tanh = TopSpec.top(m.layerShape(), m.transformerLayers(), 1, Pooling.MEAN, 2);
        assertThatThrownBy(
                        () ->
                                TopWeights.fromOnnx(
                                        OnnxGraph.read(float32Bundle.graphFile()),
                                        tanh,
                                        new float[d * 2],
                                        new float[2]))
                .hasMessageContaining("exact GELU");
    }

    @Test
    void theGraphReaderRefusesWhatItCannotDoWithTheNameOfIt() throws Exception {
        OnnxGraph graph = OnnxGraph.read(float32Bundle.graphFile());
        assertThatThrownBy(() -> graph.cutTo(List.of("/encoder/layer.9/output")))
                .hasMessageContaining("No node of the ONNX graph outputs /encoder/layer.9/output");
        assertThatThrownBy(
                        () ->
                                graph.floats(
                                        "encoder.layer.1.output.LayerNorm.bias", new long[] {768}))
                .hasMessageContaining("has shape [384], not [768]");
        assertThat(graph.floats("encoder.layer.1.output.LayerNorm.bias", new long[] {384}))
                .hasSize(384);
        String trunk = OnnxGraph.layerOutput(3);
        List<String> top = List.of(float32.manifest().tensors().sequenceOutput());
        assertThatThrownBy(
                        () ->
                                graph.between(
                                        trunk,
                                        top,
                                        Map.of(
                                                "encoder.layer.1.output.LayerNorm.bias",
                                                new float[384])))
                .hasMessageContaining("is not used between");
        assertThatThrownBy(
                        () ->
                                graph.between(
                                        trunk,
                                        top,
                                        Map.of(
                                                "encoder.layer.5.output.LayerNorm.bias",
                                                new float[383])))
                .hasMessageContaining("cannot take 383 values");
    }

    private static double cosine(float[] x, float[] y) {
        double dot = 0;
        double xx = 0;
        double yy = 0;
        for (int i = 0; i < x.length; i++) {
            dot += x[i] * y[i];
            xx += x[i] * x[i];
            yy += y[i] * y[i];
        }
        return dot / Math.sqrt(xx * yy);
    }
}
