package dev.sift.trainer.train;

import dev.sift.model.finetune.TopBatch;
import dev.sift.model.finetune.TopWeights;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.features.Progress;
import dev.sift.trainer.features.TrunkStates;
import dev.sift.trainer.finetune.TopTrainer;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Trains a top (the encoder's upper K layers, pooling and head) on cached trunk states: batches of
 * texts of similar length ({@link LengthBatches}), drawn afresh each epoch from the seed, each
 * padded to its own longest text, one {@link TopTrainer} step per batch; after each epoch the
 * validation loss and accuracy, and early stopping on the validation loss, which keeps the weights
 * of the best epoch. On a CPU the run repeats exactly for a seed: the order comes from {@link
 * Random}, dropout from a stateless generator seeded by the seed and the step.
 */
public final class FineTuning {

    /**
     * One epoch's figures.
     *
     * @param trainLoss mean cross-entropy of the epoch's steps, with dropout, before each update
     * @param validationLoss mean cross-entropy on the validation set, without dropout
     * @param validationAccuracy share of validation texts whose most likely label is right
     * @param time how long the epoch took, validation included
     */
    public record Epoch(
            int epoch,
            double trainLoss,
            double validationLoss,
            double validationAccuracy,
            Duration time) {}

    /**
     * @param weights the top of the best epoch (or the initial top when no epoch beat it)
     * @param initialValidationLoss the validation loss before the first step
     * @param history every epoch run
     * @param bestEpoch the epoch {@code weights} come from, 0 for the initial top
     * @param steps optimiser steps taken
     * @param validationProbabilities per validation text, the probabilities under {@code weights}
     */
    public record Result(
            TopWeights weights,
            double initialValidationLoss,
            List<Epoch> history,
            int bestEpoch,
            long steps,
            float[][] validationProbabilities) {}

    /** Per-text probabilities and the mean cross-entropy of a labeled set. */
    record Scores(float[][] probabilities, double loss, double accuracy) {}

    private FineTuning() {}

    public static Result train(
            TrunkStates states,
            List<Example> train,
            int[] trainLabels,
            List<Example> validation,
            int[] validationLabels,
            TopWeights initial,
            FineTuneOptions options,
            PrintStream progress)
            throws IOException {
        if (train.isEmpty() || validation.isEmpty()) {
            throw new IllegalArgumentException(
                    "Fine-tuning needs training and validation texts; got "
                            + train.size()
                            + " and "
                            + validation.size());
        }
        int batchSize = options.batchSize();
        long stepsPerEpoch = (train.size() + batchSize - 1) / batchSize;
        Random random = new Random(options.settings().seed());
        int[] trainLengths = states.lengths(train);
        try (TopTrainer<?> trainer =
                TopTrainer.create(
                        initial, options.settings(), stepsPerEpoch * options.maxEpochs())) {
            Scores before = score(trainer, states, validation, validationLabels, batchSize);
            double bestLoss = before.loss();
            double initialLoss = bestLoss;
            float[][] bestProbabilities = before.probabilities();
            TopWeights best = initial;
            int bestEpoch = 0;
            List<Epoch> history = new ArrayList<>();
            for (int epoch = 1; epoch <= options.maxEpochs(); epoch++) {
                long start = System.nanoTime();
                List<int[]> batches = LengthBatches.draw(trainLengths, batchSize, random);
                Progress bar =
                        new Progress(
                                progress,
                                String.format(
                                        Locale.ROOT,
                                        "fine-tuning epoch %d/%d",
                                        epoch,
                                        options.maxEpochs()),
                                train.size());
                bar.update(0);
                double lossSum = 0;
                int done = 0;
                for (int[] indices : batches) {
                    int[] labels = new int[indices.length];
                    for (int i = 0; i < indices.length; i++) {
                        labels[i] = trainLabels[indices[i]];
                    }
                    TopBatch batch = states.batch(pick(train, indices), labels);
                    lossSum += trainer.step(batch).loss() * indices.length;
                    done += indices.length;
                    bar.update(done);
                }
                Scores scores = score(trainer, states, validation, validationLabels, batchSize);
                Epoch figures =
                        new Epoch(
                                epoch,
                                lossSum / train.size(),
                                scores.loss(),
                                scores.accuracy(),
                                Duration.ofNanos(System.nanoTime() - start));
                history.add(figures);
                if (progress != null) {
                    progress.printf(
                            Locale.ROOT,
                            "epoch %d: train loss %.4f, validation loss %.4f, accuracy %.4f (%.0f"
                                    + " s)%n",
                            epoch,
                            figures.trainLoss(),
                            figures.validationLoss(),
                            figures.validationAccuracy(),
                            figures.time().toMillis() / 1000.0);
                }
                if (scores.loss() < bestLoss - 1e-6) {
                    bestLoss = scores.loss();
                    best = trainer.weights();
                    bestEpoch = epoch;
                    bestProbabilities = scores.probabilities();
                } else if (epoch - bestEpoch >= options.patience()) {
                    break;
                }
            }
            return new Result(
                    best, initialLoss, history, bestEpoch, trainer.steps(), bestProbabilities);
        }
    }

    /** Probabilities of {@code examples} under {@code weights}, without dropout. */
    public static float[][] probabilities(
            TopWeights weights, TrunkStates states, List<Example> examples, int batchSize)
            throws IOException {
        try (TopTrainer<?> trainer =
                TopTrainer.create(
                        weights, dev.sift.trainer.finetune.FineTuneSettings.builder().build(), 1)) {
            return score(trainer, states, examples, null, batchSize).probabilities();
        }
    }

    private static Scores score(
            TopTrainer<?> trainer,
            TrunkStates states,
            List<Example> examples,
            int[] labels,
            int batchSize)
            throws IOException {
        float[][] probabilities = new float[examples.size()][];
        int[] byLength = LengthBatches.byLength(states.lengths(examples));
        for (int from = 0; from < byLength.length; from += batchSize) {
            int[] indices =
                    Arrays.copyOfRange(byLength, from, Math.min(byLength.length, from + batchSize));
            float[][] p = trainer.probabilities(states.batch(pick(examples, indices), null));
            for (int i = 0; i < indices.length; i++) {
                probabilities[indices[i]] = p[i];
            }
        }
        if (labels == null) {
            return new Scores(probabilities, Double.NaN, Double.NaN);
        }
        double loss = 0;
        int correct = 0;
        for (int i = 0; i < labels.length; i++) {
            float[] p = probabilities[i];
            loss -= Math.log(Math.max(p[labels[i]], 1e-15));
            int predicted = 0;
            for (int j = 1; j < p.length; j++) {
                if (p[j] > p[predicted]) {
                    predicted = j;
                }
            }
            correct += predicted == labels[i] ? 1 : 0;
        }
        return new Scores(probabilities, loss / labels.length, (double) correct / labels.length);
    }

    private static List<Example> pick(List<Example> examples, int[] indices) {
        List<Example> picked = new ArrayList<>(indices.length);
        for (int index : indices) {
            picked.add(examples.get(index));
        }
        return picked;
    }
}
