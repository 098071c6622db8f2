package dev.sift.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.EncodedBatch;
import dev.sift.model.encode.PaddedBatch;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.finetune.TopBatch;
import dev.sift.model.finetune.TopModel;
import dev.sift.model.finetune.TopSpec;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.model.tokenize.TokenizedInput;
import dev.sift.model.tokenize.Truncation;
import dev.sift.trainer.TinyData;
import dev.sift.trainer.data.Dataset;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.finetune.FineTuneSettings;
import dev.sift.trainer.publish.Publisher;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fine-tuning end to end on the tiny layered BERT (3 layers): trunk states cached once, the top
 * layers trained with the head, a bundle published and verified, the cache reused.
 */
class FineTuningTest {

    private static final int MAX_LEN = 32;

    /**
     * A head fitted for one epoch at a small rate: far from done, so what fine-tuning adds shows in
     * the validation loss.
     */
    private static final TrainingOptions WEAK_HEAD =
            new TrainingOptions(1, 16, 1e-3, 0, false, 1, 42);

    @TempDir Path dir;
    private ModelRegistry registry;
    private EncoderBundle encoder;

    @BeforeEach
    void setUp() throws Exception {
        registry = ModelRegistry.at(dir.resolve("registry"));
        encoder = TinyBertEncoder.buildInto(registry.encodersDir());
    }

    @Test
    void fineTuningLowersTheValidationLossAndPublishesABundleThatServesTheSame() throws Exception {
        List<Example> examples = TinyData.spamAndHam(60, 1);
        Training.Outcome outcome = train(examples, "run", 2);

        FineTuning.Result result = outcome.fineTuned().training();
        assertThat(result.bestEpoch()).isPositive();
        double best = result.history().get(result.bestEpoch() - 1).validationLoss();
        assertThat(best)
                .as("validation loss %s before, history %s", result.initialValidationLoss(), result)
                .isLessThan(0.5 * result.initialValidationLoss());
        assertThat(outcome.fineTuned().spec().firstLayer()).isEqualTo(TinyBertEncoder.LAYERS - 2);
        assertThat(outcome.evaluation().logLoss()).isLessThan(outcome.headEvaluation().logLoss());
        assertThat(outcome.runDir().resolve("top.bin")).isRegularFile();
        assertThat(outcome.runDir().resolve("report.html")).content().contains("Fine-tuning");

        ModelBundle published =
                Publisher.publish(registry, outcome.runDir(), "macro_f1", 0.005, false);
        ModelBundle reopened = registry.open("spam", published.version());
        assertThat(reopened.isFineTuned()).isTrue();
        assertThat(reopened.manifest().fineTune().trunkLayers()).isEqualTo(1);
        assertThat(reopened.topWeights().values())
                .containsExactlyEntriesOf(result.weights().values());

        // Served as the job serves it (a fresh float32 trunk pass, then the bundle's top), the
        // test texts get the probabilities the run evaluated from its float16 cache.
        List<Example> test = outcome.splits().test();
        float[][] served = serve(reopened, test);
        float[][] evaluated;
        try (var states =
                dev.sift.trainer.features.TrunkStates.open(
                        dir.resolve("features"), encoder, MAX_LEN, Truncation.HEAD, 1)) {
            evaluated = FineTuning.probabilities(result.weights(), states, test, 7);
        }
        double worst = 0;
        for (int i = 0; i < test.size(); i++) {
            for (int j = 0; j < 2; j++) {
                worst = Math.max(worst, Math.abs(served[i][j] - evaluated[i][j]));
            }
        }
        // float16 keeps 11 bits of each trunk value; measured here: at most 8.2e-4.
        assertThat(worst).as("largest difference").isLessThan(5e-3);
    }

    @Test
    void fineTuningStartsFromAHeadFittedOnRawVectorsNotTheFoldedHead() throws Exception {
        List<Example> examples = TinyData.spamAndHam(30, 2);
        // At rate 0 no epoch beats the start, so the top the run keeps is the one it started from.
        Training.Outcome outcome =
                train(examples, "still", new FineTuneOptions(1, 1, 8, 1, frozen()));

        FineTuning.Result result = outcome.fineTuned().training();
        assertThat(result.bestEpoch()).isZero();
        ClassificationHead start = outcome.fineTuned().startHead().head();
        assertThat(result.weights().values().get(TopSpec.HEAD_KERNEL))
                .containsExactly(start.weights());
        assertThat(result.weights().values().get(TopSpec.HEAD_BIAS)).containsExactly(start.bias());
        assertThat(start.weights()).isNotEqualTo(outcome.training().head().weights());
    }

    @Test
    void aSecondRunReadsTheTrunkCacheAndRepeatsTheFirst() throws Exception {
        List<Example> examples = TinyData.spamAndHam(30, 2);
        Training.Outcome first = train(examples, "first", 1);
        assertThat(first.encodedInputs()).isEqualTo(examples.size());

        Training.Outcome second = train(examples, "second", 1);
        assertThat(second.encodedInputs()).isZero();
        // Same seed, same data, same cache: the same top, bit for bit.
        assertThat(second.fineTuned().training().weights().values())
                .containsExactlyEntriesOf(first.fineTuned().training().weights().values());

        // A deeper top needs the trunk one layer lower: only that is encoded.
        Training.Outcome deeper = train(examples, "deeper", 2);
        assertThat(deeper.encodedInputs()).isEqualTo(examples.size());
    }

    private float[][] serve(ModelBundle bundle, List<Example> test) throws Exception {
        int trunkLayers = bundle.manifest().fineTune().trunkLayers();
        try (BertTokenizer tokenizer = BertTokenizer.load(encoder.tokenizerFile(), MAX_LEN);
                TensorFlowEncoder tf = TensorFlowEncoder.load(encoder);
                TopModel top = TopModel.of(bundle.topWeights())) {
            List<TokenizedInput> inputs =
                    test.stream().map(e -> tokenizer.encode(e.text())).toList();
            PaddedBatch padded = PaddedBatch.of(inputs);
            EncodedBatch encoded = tf.encode(padded, EnumSet.noneOf(Pooling.class), trunkLayers);
            int[] lengths = new int[padded.size()];
            for (int i = 0; i < lengths.length; i++) {
                lengths[i] = padded.length(i);
            }
            return top.run(
                            new TopBatch(
                                    padded.size(), padded.length(), encoded.trunk(), lengths, null))
                    .probabilities();
        }
    }

    private static FineTuneSettings frozen() {
        return FineTuneSettings.builder().learningRate(0).seed(3).build();
    }

    private Training.Outcome train(List<Example> examples, String run, int topLayers)
            throws Exception {
        return train(
                examples,
                run,
                new FineTuneOptions(
                        topLayers,
                        15,
                        8,
                        3,
                        FineTuneSettings.builder()
                                .learningRate(3e-3)
                                .dropout(0.1)
                                .seed(3)
                                .build()));
    }

    private Training.Outcome train(List<Example> examples, String run, FineTuneOptions fineTune)
            throws Exception {
        return Training.run(
                new Dataset("test", examples, List.of()),
                "data-hash",
                Training.Settings.builder("spam", registry, encoder, dir.resolve(run))
                        .poolings(List.of(Pooling.CLS))
                        .maxSeqLen(MAX_LEN)
                        .encodeBatchSize(16)
                        .split(0.2, 0.2)
                        .options(WEAK_HEAD)
                        .featureCache(dir.resolve("features"))
                        .progress(new PrintStream(OutputStream.nullOutputStream()))
                        .fineTune(fineTune)
                        .build());
    }
}
