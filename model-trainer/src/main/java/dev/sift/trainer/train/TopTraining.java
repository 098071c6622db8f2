package dev.sift.trainer.train;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderEngine;
import dev.sift.model.bundle.LayerShape;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.OnnxGraph;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.finetune.TopSpec;
import dev.sift.model.finetune.TopWeights;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.tokenize.Truncation;
import dev.sift.trainer.data.Splits;
import dev.sift.trainer.eval.Evaluation;
import dev.sift.trainer.features.TrunkStates;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.tensorflow.SavedModelBundle;

/**
 * The fine-tuning stage of a run: the top (the encoder's upper K layers, from its pre-trained
 * weights, and a head fitted on frozen features, which it starts from) is trained on the cached
 * trunk states of the training split, stopped early on the validation split, and evaluated on the
 * test split with the same {@link Evaluation} as a head.
 *
 * <p>Starting the head from one fitted on frozen features, not from random values, means the first
 * steps adjust the layers to a head that already separates the classes, instead of moving
 * pre-trained layers to suit a random head (the "linear probe, then fine-tune" recipe). That start
 * head is fitted on the raw vectors ({@link HeadTrainer#trainOnRawVectors}), not folded back from
 * standardized ones like the run's head-only model: the folded head has large weights on the
 * dimensions that vary least, and the first updates to the layers under it moved its answers far
 * enough that validation loss rose in the first epoch (SpamAssassin at 128 tokens, head-tail:32:
 * 0.104 to 0.195; trained without hard ham: 0.032 to 0.097) and early stopping kept no fine-tuned
 * epoch. From the raw head those runs fine-tuned, and of ten runs all came out with a lower test
 * log-loss and nine with the same or better accuracy (the start-head table of docs/experiments.md).
 */
public final class TopTraining {

    /**
     * @param spec what the top is
     * @param startHead the head fine-tuning started from, fitted on raw frozen vectors
     * @param training the weights of the best epoch and every epoch's figures
     * @param evaluation the best top on the test split
     * @param testProbabilities per test text, the best top's probabilities
     * @param time training wall time, validation included
     */
    public record Outcome(
            TopSpec spec,
            HeadTrainer.Result startHead,
            FineTuning.Result training,
            Evaluation evaluation,
            float[][] testProbabilities,
            Duration time) {}

    private TopTraining() {}

    static Outcome run(
            EncoderBundle encoder,
            int encoderLayers,
            LayerShape shape,
            Path cacheRoot,
            int maxSeqLen,
            Truncation truncation,
            Splits splits,
            List<String> labels,
            Pooling pooling,
            float[][] trainVectors,
            float[][] validationVectors,
            TrainingOptions headOptions,
            FineTuneOptions options,
            PrintStream progress)
            throws IOException {
        int k = options.topLayers();
        TopSpec spec =
                TopSpec.top(
                        shape,
                        encoderLayers,
                        k,
                        pooling,
                        labels.size(),
                        encoder.manifest().activation());
        HeadTrainer.Result startHead =
                HeadTrainer.trainOnRawVectors(
                        trainVectors,
                        Training.indices(splits.train(), labels),
                        validationVectors,
                        Training.indices(splits.validation(), labels),
                        labels,
                        headOptions);
        TopWeights initial = initialWeights(encoder, spec, startHead.head());
        long start = System.nanoTime();
        try (TrunkStates states =
                TrunkStates.open(cacheRoot, encoder, maxSeqLen, truncation, spec.firstLayer())) {
            FineTuning.Result result =
                    FineTuning.train(
                            states,
                            splits.train(),
                            Training.indices(splits.train(), labels),
                            splits.validation(),
                            Training.indices(splits.validation(), labels),
                            initial,
                            options,
                            progress);
            Duration time = Duration.ofNanos(System.nanoTime() - start);
            float[][] probabilities =
                    FineTuning.probabilities(
                            result.weights(), states, splits.test(), options.batchSize());
            Evaluation evaluation =
                    Evaluation.of(
                            labels,
                            probabilities,
                            Training.indices(splits.test(), labels),
                            Training.groups(splits.test()));
            return new Outcome(spec, startHead, result, evaluation, probabilities, time);
        }
    }

    /** The encoder's own weights for the top's layers, and {@code head} as the head. */
    private static TopWeights initialWeights(
            EncoderBundle encoder, TopSpec spec, ClassificationHead head) throws IOException {
        if (encoder.manifest().runtime() == EncoderEngine.ONNX_RUNTIME) {
            return TopWeights.fromOnnx(
                    OnnxGraph.read(encoder.graphFile()), spec, head.weights(), head.bias());
        }
        TensorFlowEncoder.defaultDevice(); // loads TensorFlow's natives before the graph API
        try (SavedModelBundle saved =
                SavedModelBundle.load(
                        encoder.savedModelDir().toString(),
                        encoder.manifest().tags().toArray(String[]::new))) {
            return TopWeights.fromSavedModel(saved.session(), spec, head.weights(), head.bias());
        }
    }
}
