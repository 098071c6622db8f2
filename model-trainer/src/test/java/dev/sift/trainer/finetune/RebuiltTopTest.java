package dev.sift.trainer.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sift.model.bundle.EasyBertNames;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.LayerShape;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.finetune.FloatTensors;
import dev.sift.model.finetune.TopBatch;
import dev.sift.model.finetune.TopModel;
import dev.sift.model.finetune.TopSpec;
import dev.sift.model.finetune.TopWeights;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.testing.RealBert;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.model.tokenize.TokenizedInput;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.StdArrays;
import org.tensorflow.types.TInt32;

/**
 * On Google's BERT-base: the top K layers and the pooler, rebuilt from the SavedModel's weights and
 * fed the trunk's output (layer 11 - K), reproduce the SavedModel's own sequence and pooled
 * outputs, after a training step at learning rate 0 and without dropout.
 */
@Tag("bert")
class RebuiltTopTest {

    /**
     * Largest difference allowed on any of the 768 values of any position, padding included.
     * Measured here (float32, summation order differs from the SavedModel's kernels): K=1 sequence
     * 4.8e-6, pooled 9.4e-7; K=2 sequence 5.7e-6, pooled 1.3e-6. Ignoring the attention mask errs
     * by 1.7 and more.
     */
    private static final float TOLERANCE = 1e-5f;

    private static final List<String> TEXTS =
            List.of(
                    "Congratulations! You have been selected to receive a free cruise to the"
                            + " Bahamas. Call now to claim your prize.",
                    "Lunch at noon?",
                    "The build on the release branch fails since yesterday's merge; can you"
                            + " look at the linker errors before the freeze?");

    private static SavedModelBundle bert;
    private static String sequenceOutput;
    private static String pooledOutput;
    private static int[][] ids;
    private static int[][] masks;
    private static int[] lengths;

    @BeforeAll
    static void load() throws Exception {
        TensorFlowEncoder.defaultDevice(); // loads TensorFlow's natives before the graph API
        EncoderBundle bundle = RealBert.bundle();
        bert = SavedModelBundle.load(bundle.savedModelDir().toString(), "serve");
        var outputs =
                bert.metaGraphDef().getSignatureDefMap().get("serving_default").getOutputsMap();
        sequenceOutput = outputs.get("sequence_output").getName();
        pooledOutput = outputs.get("pooled_output").getName();
        try (BertTokenizer tokenizer = BertTokenizer.load(bundle.tokenizerFile(), 128)) {
            List<TokenizedInput> inputs = tokenizer.encodeAll(TEXTS);
            int length = inputs.stream().mapToInt(TokenizedInput::length).max().orElseThrow();
            ids = new int[inputs.size()][length];
            masks = new int[inputs.size()][length];
            lengths = new int[inputs.size()];
            for (int i = 0; i < inputs.size(); i++) {
                TokenizedInput input = inputs.get(i);
                lengths[i] = input.length();
                System.arraycopy(input.ids(), 0, ids[i], 0, input.length());
                for (int t = 0; t < input.length(); t++) {
                    masks[i][t] = 1;
                }
            }
        }
    }

    @AfterAll
    static void close() {
        if (bert != null) {
            bert.close();
        }
    }

    @ParameterizedTest(name = "top {0} layer(s)")
    @ValueSource(ints = {1, 2})
    void rebuiltTopReproducesTheEncoder(int layers) {
        TopSpec spec = TopSpec.top(LayerShape.BERT_BASE, 12, layers, Pooling.POOLER, 2);
        int size = ids.length;
        int length = ids[0].length;
        float[] trunk;
        float[] expectedSequence;
        float[] expectedPooled;
        try (TInt32 idTensor = TInt32.tensorOf(StdArrays.ndCopyOf(ids));
                TInt32 maskTensor = TInt32.tensorOf(StdArrays.ndCopyOf(masks));
                TInt32 segments = TInt32.tensorOf(StdArrays.ndCopyOf(new int[size][length]));
                Result result =
                        bert.session()
                                .runner()
                                .feed("input_ids", idTensor)
                                .feed("input_mask", maskTensor)
                                .feed("segment_ids", segments)
                                .fetch(EasyBertNames.layerOutput(spec.firstLayer() - 1))
                                .fetch(sequenceOutput)
                                .fetch(pooledOutput)
                                .run()) {
            trunk = FloatTensors.toFloats(result.get(0));
            expectedSequence = FloatTensors.toFloats(result.get(1));
            expectedPooled = FloatTensors.toFloats(result.get(2));
        }
        Random random = new Random(3);
        float[] headKernel = new float[768 * 2];
        for (int i = 0; i < headKernel.length; i++) {
            headKernel[i] = (float) (0.05 * random.nextGaussian());
        }
        float[] headBias = {0.1f, -0.1f};
        TopWeights initial = TopWeights.fromSavedModel(bert.session(), spec, headKernel, headBias);
        TopBatch batch = new TopBatch(size, length, trunk, lengths, new int[] {1, 0, 0});
        FineTuneSettings frozen = FineTuneSettings.builder().learningRate(0).dropout(0).build();

        TopWeights afterStep;
        float[][] trainerProbabilities;
        try (TopTrainer<?> trainer = TopTrainer.create(initial, frozen, 1)) {
            TopTrainer.Step step = trainer.step(batch);
            // Without dropout the training loss is the evaluation loss.
            assertThat(step.loss()).isCloseTo(trainer.loss(batch), within(1e-6));
            assertThat(step.gradientNorm()).isGreaterThan(0);
            afterStep = trainer.weights();
            trainerProbabilities = trainer.probabilities(batch);
        }
        for (String name : spec.parameters().keySet()) {
            // Compared numerically: a step of 0 may turn a 0.0 into -0.0.
            assertThat(maxDifference(afterStep.get(name), initial.get(name))).as(name).isZero();
        }

        try (TopModel top = TopModel.of(afterStep)) {
            TopModel.Outputs out = top.run(batch);
            float sequenceError = maxDifference(top.sequence(batch), expectedSequence);
            float[] pooled = new float[size * 768];
            for (int i = 0; i < size; i++) {
                System.arraycopy(out.pooled()[i], 0, pooled, i * 768, 768);
            }
            float pooledError = maxDifference(pooled, expectedPooled);
            String report =
                    String.format(
                            "K=%d: sequence differs by at most %.3g, pooled by %.3g",
                            layers, sequenceError, pooledError);
            assertThat(sequenceError).as(report).isLessThanOrEqualTo(TOLERANCE);
            assertThat(pooledError).as(report).isLessThanOrEqualTo(TOLERANCE);

            // The head on the encoder's own pooled vector gives the trainer's probabilities.
            ClassificationHead head =
                    new ClassificationHead(headKernel, headBias, List.of("ham", "spam"));
            for (int i = 0; i < size; i++) {
                float[] bertPooled = new float[768];
                System.arraycopy(expectedPooled, i * 768, bertPooled, 0, 768);
                float[] expected = head.probabilities(bertPooled);
                for (int j = 0; j < 2; j++) {
                    assertThat(trainerProbabilities[i][j]).isCloseTo(expected[j], within(1e-5f));
                    assertThat(out.probabilities()[i][j]).isCloseTo(expected[j], within(1e-5f));
                }
            }
        }
    }

    private static float maxDifference(float[] actual, float[] expected) {
        assertThat(actual).hasSameSizeAs(expected);
        float worst = 0;
        for (int i = 0; i < actual.length; i++) {
            worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
        }
        return worst;
    }
}
