package dev.sift.trainer.finetune;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.Encoder;
import dev.sift.model.encode.PaddedBatch;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.finetune.TopBatch;
import dev.sift.model.finetune.TopSpec;
import dev.sift.model.finetune.TopWeights;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.model.tokenize.TokenizedInput;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tensorflow.SavedModelBundle;

/**
 * Fine-tuning end to end on the tiny BERT: the encoder's trunk is fetched once, the top layer and
 * head start from the SavedModel's weights, and a few training steps lower the loss.
 */
class TinyFineTuneTest {

    private static final List<String> SPAM =
            List.of("win cash now", "free money offer", "click to buy cheap", "win a prize now");
    private static final List<String> HAM =
            List.of(
                    "the meeting is tomorrow",
                    "thanks for the report",
                    "please see the project",
                    "hello, good day");

    @ParameterizedTest
    @EnumSource(
            value = Pooling.class,
            names = {"CLS", "POOLER"})
    void trainingTheTopLayerOnTrunkOutputsLowersTheLoss(Pooling pooling) throws Exception {
        EncoderBundle bundle = TinyBertEncoder.bundle();
        TopSpec spec =
                TopSpec.top(
                        bundle.manifest().layerShape(),
                        bundle.manifest().transformerLayers(),
                        1,
                        pooling,
                        2);
        TopBatch batch;
        try (Encoder encoder = TensorFlowEncoder.load(bundle);
                BertTokenizer tokenizer =
                        BertTokenizer.load(bundle.tokenizerFile(), TinyBertEncoder.MAX_SEQ_LEN)) {
            List<TokenizedInput> inputs =
                    tokenizer.encodeAll(
                            java.util.stream.Stream.concat(SPAM.stream(), HAM.stream()).toList());
            PaddedBatch padded = PaddedBatch.of(inputs);
            float[] trunk = encoder.encode(padded, Set.of(), spec.firstLayer()).trunk();
            int[] lengths = inputs.stream().mapToInt(TokenizedInput::length).toArray();
            int[] labels = new int[inputs.size()];
            for (int i = 0; i < SPAM.size(); i++) {
                labels[i] = 1;
            }
            batch = new TopBatch(inputs.size(), padded.length(), trunk, lengths, labels);
        }
        Random random = new Random(7);
        float[] headKernel = new float[TinyBertEncoder.HIDDEN_SIZE * 2];
        for (int i = 0; i < headKernel.length; i++) {
            headKernel[i] = (float) (0.1 * random.nextGaussian());
        }
        TopWeights initial;
        try (SavedModelBundle saved =
                SavedModelBundle.load(bundle.savedModelDir().toString(), "serve")) {
            initial = TopWeights.fromSavedModel(saved.session(), spec, headKernel, new float[2]);
        }
        FineTuneSettings settings =
                FineTuneSettings.builder().learningRate(1e-2).dropout(0).seed(3).build();
        int steps = 20;
        try (TopTrainer<?> trainer = TopTrainer.create(initial, settings, steps)) {
            double before = trainer.loss(batch);
            for (int i = 0; i < steps; i++) {
                trainer.step(batch);
            }
            double after = trainer.loss(batch);
            System.out.printf(
                    "Tiny BERT, top 1 layer + %s head, %d steps: loss %.4f -> %.4f%n",
                    pooling, steps, before, after);
            assertThat(after).isLessThan(before * 0.5);
        }
    }
}
