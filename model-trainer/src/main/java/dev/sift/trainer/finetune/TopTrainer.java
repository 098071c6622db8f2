package dev.sift.trainer.finetune;

import dev.sift.model.finetune.FloatTensors;
import dev.sift.model.finetune.TopBatch;
import dev.sift.model.finetune.TopLayers;
import dev.sift.model.finetune.TopSpec;
import dev.sift.model.finetune.TopWeights;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * Trains a fine-tuned top in TensorFlow graph mode: the {@link TopLayers} forward graph on
 * variables, mean cross-entropy against one-hot labels, gradients from TensorFlow's C++ gradient
 * registry, clipping by global norm, and Adam with a warm-up and linear decay.
 *
 * <p>Dropout draws from a stateless generator seeded by {@link FineTuneSettings#seed()} and the
 * step number, so a run with the same data order repeats. Evaluation ({@link #loss}, {@link
 * #probabilities}) runs without dropout.
 *
 * <pre>{@code
 * try (TopTrainer<TFloat32> trainer = TopTrainer.create(TFloat32.class, weights, settings, steps)) {
 *     for (TopBatch batch : batches) {
 *         trainer.step(batch);
 *     }
 *     TopWeights tuned = trainer.weights();
 * }
 * }</pre>
 *
 * @param <T> the graph's float type: float32 to train, float64 for gradient checks
 */
public final class TopTrainer<T extends TFloating> implements AutoCloseable {

    /**
     * One step's outcome.
     *
     * @param loss the batch's mean cross-entropy before the update, with dropout
     * @param gradientNorm the global L2 norm of the gradients before clipping
     * @param learningRate the rate this step used
     */
    public record Step(double loss, double gradientNorm, double learningRate) {}

    private final Class<T> type;
    private final TopSpec spec;
    private final FineTuneSettings settings;
    private final LearningRateSchedule schedule;
    private final Graph graph;
    private final Session session;

    private final Placeholder<T> hidden;
    private final Placeholder<T> mask;
    private final Placeholder<T> labels;
    private final Placeholder<T> dropoutRate;
    private final Placeholder<TInt64> seed;
    private final Placeholder<T> learningRate;
    private final Placeholder<T> beta1Power;
    private final Placeholder<T> beta2Power;

    private final Map<String, Placeholder<T>> newValues = new LinkedHashMap<>();
    private final List<Op> assignments = new ArrayList<>();
    private final List<Op> slotResets = new ArrayList<>();
    private final Map<String, Operand<T>> reads = new LinkedHashMap<>();
    private final List<Output<T>> gradients = new ArrayList<>();
    private final List<Op> updates = new ArrayList<>();
    private final Operand<T> trainingLoss;
    private final Operand<T> evaluationLoss;
    private final Operand<T> probabilities;
    private final Operand<T> gradientNorm;
    private long steps;

    private TopTrainer(
            Class<T> type, TopSpec spec, FineTuneSettings settings, LearningRateSchedule schedule) {
        this.type = type;
        this.spec = spec;
        this.settings = settings;
        this.schedule = schedule;
        this.graph = new Graph();
        try {
            Ops tf = Ops.create(graph);
            int h = spec.shape().hiddenSize();
            hidden = tf.placeholder(type, Placeholder.shape(Shape.of(-1, -1, h)));
            mask = tf.placeholder(type, Placeholder.shape(Shape.of(-1, -1)));
            labels = tf.placeholder(type, Placeholder.shape(Shape.of(-1, spec.labels())));
            dropoutRate = tf.placeholder(type, Placeholder.shape(Shape.scalar()));
            seed = tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
            learningRate = tf.placeholder(type, Placeholder.shape(Shape.scalar()));
            beta1Power = tf.placeholder(type, Placeholder.shape(Shape.scalar()));
            beta2Power = tf.placeholder(type, Placeholder.shape(Shape.scalar()));

            Map<String, Variable<T>> variables = new LinkedHashMap<>();
            Map<String, Variable<T>> firstMoments = new LinkedHashMap<>();
            Map<String, Variable<T>> secondMoments = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> parameter : spec.parameters().entrySet()) {
                String name = parameter.getKey();
                Shape shape = Shape.of(parameter.getValue());
                Variable<T> variable = tf.variable(shape, type);
                Placeholder<T> value = tf.placeholder(type, Placeholder.shape(shape));
                newValues.put(name, value);
                assignments.add(tf.assign(variable, value));
                variables.put(name, variable);
                // Gradients are taken at a read of each variable, not at the variable itself.
                reads.put(name, tf.identity(variable));
                Variable<T> m = tf.variable(shape, type);
                Variable<T> v = tf.variable(shape, type);
                Operand<T> zeros = tf.zeros(tf.constant(parameter.getValue()), type);
                slotResets.add(tf.assign(m, zeros));
                slotResets.add(tf.assign(v, zeros));
                firstMoments.put(name, m);
                secondMoments.put(name, v);
            }

            TopLayers.Outputs<T> training =
                    TopLayers.build(
                            tf,
                            type,
                            spec,
                            reads::get,
                            hidden,
                            mask,
                            new TopLayers.Dropout<>(dropoutRate, seed));
            trainingLoss = crossEntropy(tf, training.logits());
            TopLayers.Outputs<T> evaluation =
                    TopLayers.build(tf, type, spec, reads::get, hidden, mask, null);
            evaluationLoss = crossEntropy(tf, evaluation.logits());
            probabilities = tf.nn.softmax(evaluation.logits());

            List<Operand<T>> readList = new ArrayList<>(reads.values());
            Output<?>[] dy =
                    graph.addGradients(
                            trainingLoss.asOutput(),
                            readList.stream().map(Operand::asOutput).toArray(Output<?>[]::new));
            Operand<T> squares = null;
            for (Output<?> g : dy) {
                @SuppressWarnings("unchecked")
                Output<T> gradient = (Output<T>) g;
                gradients.add(gradient);
                Operand<T> square =
                        tf.sum(
                                tf.math.square(tf.reshape(gradient, tf.constant(new int[] {-1}))),
                                tf.constant(0));
                squares = squares == null ? square : tf.math.add(squares, square);
            }
            gradientNorm = tf.math.sqrt(squares);
            Operand<T> clipNorm = constant(tf, settings.clipNorm());
            // g * clip / max(norm, clip): unchanged while the norm is within the limit.
            Operand<T> clipScale = tf.math.div(clipNorm, tf.math.maximum(gradientNorm, clipNorm));
            int i = 0;
            for (String name : variables.keySet()) {
                updates.add(
                        tf.train.applyAdam(
                                variables.get(name),
                                firstMoments.get(name),
                                secondMoments.get(name),
                                beta1Power,
                                beta2Power,
                                learningRate,
                                constant(tf, settings.beta1()),
                                constant(tf, settings.beta2()),
                                constant(tf, settings.epsilon()),
                                tf.math.mul(gradients.get(i++), clipScale)));
            }
            session = new Session(graph);
        } catch (RuntimeException e) {
            graph.close();
            throw e;
        }
    }

    /**
     * A trainer for {@code initial.spec()}, starting from {@code initial}, for a run of {@code
     * totalSteps} steps (which the learning-rate schedule spans).
     */
    public static <T extends TFloating> TopTrainer<T> create(
            Class<T> type, TopWeights initial, FineTuneSettings settings, long totalSteps) {
        TopTrainer<T> trainer =
                new TopTrainer<>(type, initial.spec(), settings, settings.schedule(totalSteps));
        try {
            trainer.load(initial);
            return trainer;
        } catch (RuntimeException e) {
            trainer.close();
            throw e;
        }
    }

    /** A float32 trainer, the one training uses. */
    public static TopTrainer<TFloat32> create(
            TopWeights initial, FineTuneSettings settings, long totalSteps) {
        return create(TFloat32.class, initial, settings, totalSteps);
    }

    public TopSpec spec() {
        return spec;
    }

    /** Sets every parameter to {@code weights} and restarts Adam and the schedule at step 0. */
    public void load(TopWeights weights) {
        if (!weights.spec().equals(spec)) {
            throw new IllegalArgumentException(
                    "Weights for " + weights.spec() + " do not fit " + spec);
        }
        List<Tensor> fed = new ArrayList<>();
        try {
            Session.Runner runner = session.runner();
            for (Map.Entry<String, long[]> parameter : spec.parameters().entrySet()) {
                Tensor value =
                        FloatTensors.of(
                                type,
                                Shape.of(parameter.getValue()),
                                weights.get(parameter.getKey()));
                fed.add(value);
                runner.feed(newValues.get(parameter.getKey()), value);
            }
            assignments.forEach(runner::addTarget);
            slotResets.forEach(runner::addTarget);
            runner.run().close();
            steps = 0;
        } finally {
            fed.forEach(Tensor::close);
        }
    }

    /** One Adam step on {@code batch}, with dropout; returns the loss before the update. */
    public Step step(TopBatch batch) {
        long t = steps + 1;
        double rate = schedule.at(steps);
        List<Tensor> fed = new ArrayList<>();
        try {
            Session.Runner runner = feedBatch(batch, fed, true);
            feedTraining(runner, fed, t);
            runner.feed(learningRate, track(fed, FloatTensors.scalar(type, rate)));
            runner.feed(
                    beta1Power,
                    track(fed, FloatTensors.scalar(type, Math.pow(settings.beta1(), t))));
            runner.feed(
                    beta2Power,
                    track(fed, FloatTensors.scalar(type, Math.pow(settings.beta2(), t))));
            updates.forEach(runner::addTarget);
            try (Result result = runner.fetch(trainingLoss).fetch(gradientNorm).run()) {
                steps = t;
                return new Step(
                        FloatTensors.toDoubles(result.get(0))[0],
                        FloatTensors.toDoubles(result.get(1))[0],
                        rate);
            }
        } finally {
            fed.forEach(Tensor::close);
        }
    }

    /** Steps taken since the last {@link #load}. */
    public long steps() {
        return steps;
    }

    /** The mean cross-entropy on {@code batch} without dropout, at the current weights. */
    public double loss(TopBatch batch) {
        List<Tensor> fed = new ArrayList<>();
        try (Result result = feedBatch(batch, fed, true).fetch(evaluationLoss).run()) {
            return FloatTensors.toDoubles(result.get(0))[0];
        } finally {
            fed.forEach(Tensor::close);
        }
    }

    /**
     * The training loss on {@code batch} with the dropout that step {@code step} draws, and its
     * gradient with respect to every parameter, unclipped; no update is made.
     */
    public Map<String, double[]> gradients(TopBatch batch, long step) {
        List<Tensor> fed = new ArrayList<>();
        try {
            Session.Runner runner = feedBatch(batch, fed, true);
            feedTraining(runner, fed, step);
            gradients.forEach(runner::fetch);
            try (Result result = runner.run()) {
                Map<String, double[]> byName = new LinkedHashMap<>();
                int i = 0;
                for (String name : reads.keySet()) {
                    byName.put(name, FloatTensors.toDoubles(result.get(i++)));
                }
                return byName;
            }
        } finally {
            fed.forEach(Tensor::close);
        }
    }

    /** The training loss (with step {@code step}'s dropout) on {@code batch}; no update. */
    public double trainingLoss(TopBatch batch, long step) {
        List<Tensor> fed = new ArrayList<>();
        try {
            Session.Runner runner = feedBatch(batch, fed, true);
            feedTraining(runner, fed, step);
            try (Result result = runner.fetch(trainingLoss).run()) {
                return FloatTensors.toDoubles(result.get(0))[0];
            }
        } finally {
            fed.forEach(Tensor::close);
        }
    }

    /** Each sequence's label probabilities without dropout, {@code [size][labels]}. */
    public float[][] probabilities(TopBatch batch) {
        List<Tensor> fed = new ArrayList<>();
        try (Result result = feedBatch(batch, fed, false).fetch(probabilities).run()) {
            float[] flat = FloatTensors.toFloats(result.get(0));
            float[][] rows = new float[batch.size()][spec.labels()];
            for (int i = 0; i < rows.length; i++) {
                System.arraycopy(flat, i * spec.labels(), rows[i], 0, spec.labels());
            }
            return rows;
        } finally {
            fed.forEach(Tensor::close);
        }
    }

    /** The current value of every parameter. */
    public TopWeights weights() {
        Session.Runner runner = session.runner();
        reads.values().forEach(runner::fetch);
        try (Result result = runner.run()) {
            Map<String, float[]> values = new LinkedHashMap<>();
            int i = 0;
            for (String name : reads.keySet()) {
                values.put(name, FloatTensors.toFloats(result.get(i++)));
            }
            return TopWeights.of(spec, values);
        }
    }

    @Override
    public void close() {
        try {
            if (session != null) {
                session.close();
            }
        } finally {
            graph.close();
        }
    }

    private Session.Runner feedBatch(TopBatch batch, List<Tensor> fed, boolean withLabels) {
        if (batch.hiddenSize() != spec.shape().hiddenSize()) {
            throw new IllegalArgumentException(
                    "Batch vectors are "
                            + batch.hiddenSize()
                            + " wide; the top expects "
                            + spec.shape().hiddenSize());
        }
        Session.Runner runner = session.runner();
        Shape sequences = Shape.of(batch.size(), batch.length());
        runner.feed(
                hidden,
                track(
                        fed,
                        FloatTensors.of(
                                type,
                                Shape.of(batch.size(), batch.length(), batch.hiddenSize()),
                                batch.hidden())));
        runner.feed(mask, track(fed, FloatTensors.of(type, sequences, batch.mask())));
        if (withLabels) {
            runner.feed(
                    labels,
                    track(
                            fed,
                            FloatTensors.of(
                                    type,
                                    Shape.of(batch.size(), spec.labels()),
                                    batch.oneHot(spec.labels()))));
        }
        return runner;
    }

    private void feedTraining(Session.Runner runner, List<Tensor> fed, long step) {
        runner.feed(dropoutRate, track(fed, FloatTensors.scalar(type, settings.dropout())));
        runner.feed(seed, track(fed, TInt64.vectorOf(settings.seed(), step)));
    }

    private static Tensor track(List<Tensor> fed, Tensor tensor) {
        fed.add(tensor);
        return tensor;
    }

    /**
     * Mean of {@code -sum(labels * log_softmax(logits))}. Written out rather than with {@code
     * SoftmaxCrossEntropyWithLogits}, whose C++ gradient builds a float32 constant and so cannot
     * differentiate a float64 graph (the gradient check's); the sparse op has no gradient at all.
     */
    private Operand<T> crossEntropy(Ops tf, Operand<T> logits) {
        Operand<T> perSequence =
                tf.math.neg(tf.sum(tf.math.mul(labels, tf.nn.logSoftmax(logits)), tf.constant(-1)));
        return tf.math.mean(perSequence, tf.constant(0));
    }

    private Operand<T> constant(Ops tf, double value) {
        return tf.dtypes.cast(tf.constant(value), type);
    }
}
