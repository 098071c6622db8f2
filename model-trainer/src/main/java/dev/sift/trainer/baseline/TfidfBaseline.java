package dev.sift.trainer.baseline;

import de.bwaldvogel.liblinear.Feature;
import de.bwaldvogel.liblinear.FeatureNode;
import de.bwaldvogel.liblinear.Linear;
import de.bwaldvogel.liblinear.Model;
import de.bwaldvogel.liblinear.Parameter;
import de.bwaldvogel.liblinear.Problem;
import de.bwaldvogel.liblinear.SolverType;
import dev.sift.model.ngram.CharNgramTfidf;
import dev.sift.model.ngram.NgramClassifier;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.eval.Evaluation;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The yardstick every BERT run is held against: character 2-5-gram TF-IDF ({@link CharNgramTfidf})
 * and L2-regularised logistic regression, fitted on the run's training split and evaluated on its
 * test split with the same {@code Evaluation}, so a report says whether BERT earns its cost. It
 * reads the whole text (both texts of a pair, joined by {@value NgramClassifier#PAIR_SEPARATOR}),
 * not the encoder's first {@code max_seq_len} tokens. The fitted model comes back as model-core's
 * {@link NgramClassifier}, which computes LIBLINEAR's probabilities without it, so a model version
 * can carry it and the job blend it in.
 *
 * <p>The classifier is LIBLINEAR, through its Java port {@code de.bwaldvogel:liblinear}: the solver
 * behind scikit-learn's {@code LinearSVC} and liblinear logistic regression, BSD-3, one 140 KB jar
 * with no dependencies. Its logistic regression gives probabilities, so log-loss and calibration
 * mean what they mean for the head. Tribuo (which wraps the same LIBLINEAR) was weighed and left:
 * it brings OLCUT and protobuf 3 beside the protobuf 4 the TensorFlow engine needs, and its text
 * pipeline has word n-grams only; Smile is GPL-3.0. The cost C is chosen among {@link #COSTS} by
 * validation log-loss; the test split plays no part in it.
 *
 * <pre>{@code
 * TfidfBaseline.Result tfidf =
 *         TfidfBaseline.fit(splits.train(), splits.validation(), splits.test(), labels, seed);
 * Evaluation e = Evaluation.of(labels, tfidf.testProbabilities(), testLabels, groups);
 * }</pre>
 */
public final class TfidfBaseline {

    /**
     * Inverse regularisation strengths tried on the validation split, LIBLINEAR's default first.
     */
    static final double[] COSTS = {1, 10, 100};

    private static final double STOPPING_TOLERANCE = 0.01;

    /** An intercept, as LIBLINEAR learns one: a constant feature appended to every vector. */
    private static final double BIAS = 1;

    /**
     * The fitted baseline, its label probabilities on the validation and test splits (per example,
     * one per label in the run's label order), the cost it chose, and how long fitting took (all Cs
     * tried).
     */
    public record Result(
            NgramClassifier classifier,
            float[][] validationProbabilities,
            float[][] testProbabilities,
            double cost,
            int features,
            Duration fitTime) {

        /** What the baseline is, for reports. */
        public String description() {
            return String.format(
                    Locale.ROOT,
                    "TF-IDF char %d-%d-grams + logistic regression (LIBLINEAR, C=%s, %d"
                            + " features), whole text",
                    CharNgramTfidf.MIN_N,
                    CharNgramTfidf.MAX_N,
                    cost == Math.rint(cost) ? Long.toString((long) cost) : Double.toString(cost),
                    features);
        }
    }

    private TfidfBaseline() {}

    /**
     * Fits on {@code train}, picks C on {@code validation} (LIBLINEAR's default C=1 when it is
     * empty) and predicts {@code validation} and {@code test}, for the same {@code Evaluation} as
     * the BERT model's. The probabilities are the returned classifier's, which equal LIBLINEAR's.
     *
     * @param labels the run's label order
     */
    public static Result fit(
            List<Example> train,
            List<Example> validation,
            List<Example> test,
            List<String> labels,
            long seed) {
        Instant start = Instant.now();
        CharNgramTfidf tfidf = CharNgramTfidf.fit(train.stream().map(TfidfBaseline::text).toList());
        Problem problem = problem(tfidf, train, labels);
        Feature[][] validationX = vectors(tfidf, validation);
        int[] validationY = indices(validation, labels);
        Model best = null;
        float[][] bestValidation = null;
        double bestCost = COSTS[0];
        double bestLoss = Double.POSITIVE_INFINITY;
        for (double cost : validation.isEmpty() ? new double[] {COSTS[0]} : COSTS) {
            Model model = train(problem, cost, seed);
            float[][] p = probabilities(model, validationX, labels.size());
            double loss = Evaluation.meanLogLoss(p, validationY);
            if (best == null || loss < bestLoss) {
                best = model;
                bestValidation = p;
                bestCost = cost;
                bestLoss = loss;
            }
        }
        NgramClassifier classifier = classifier(tfidf, best, labels.size());
        Duration fitTime = Duration.between(start, Instant.now());
        return new Result(
                classifier,
                bestValidation, // LIBLINEAR's, which the classifier's equal (TfidfBaselineTest)
                probabilities(classifier, test),
                bestCost,
                tfidf.dimension(),
                fitTime);
    }

    /** LIBLINEAR's model as model-core's classifier: the same weights, bias and classes. */
    static NgramClassifier classifier(CharNgramTfidf tfidf, Model model, int labelCount) {
        return new NgramClassifier(
                tfidf, labelCount, model.getLabels(), model.getFeatureWeights(), model.getBias());
    }

    /** Per example, a probability for each label index. */
    public static float[][] probabilities(NgramClassifier classifier, List<Example> examples) {
        float[][] p = new float[examples.size()][];
        for (int i = 0; i < p.length; i++) {
            p[i] = classifier.probabilities(text(examples.get(i)));
        }
        return p;
    }

    /** What the baseline reads of an example: the whole text, or both texts of a pair. */
    static String text(Example example) {
        return NgramClassifier.text(example.text(), example.isPair() ? example.textB() : null);
    }

    static Problem problem(CharNgramTfidf tfidf, List<Example> train, List<String> labels) {
        Problem problem = new Problem();
        problem.l = train.size();
        problem.n = tfidf.dimension() + 1; // the bias feature is the last
        problem.x = vectors(tfidf, train);
        int[] y = indices(train, labels);
        problem.y = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            problem.y[i] = y[i];
        }
        problem.bias = BIAS;
        return problem;
    }

    static Model train(Problem problem, double cost, long seed) {
        Parameter parameter = new Parameter(SolverType.L2R_LR, cost, STOPPING_TOLERANCE);
        parameter.setRandom(new Random(seed));
        Linear.disableDebugOutput();
        return Linear.train(problem, parameter);
    }

    /** Per example, a probability for each label index; labels the model never saw get 0. */
    private static float[][] probabilities(Model model, Feature[][] x, int labelCount) {
        int[] modelLabels = model.getLabels();
        double[] estimate = new double[modelLabels.length];
        float[][] p = new float[x.length][labelCount];
        for (int n = 0; n < x.length; n++) {
            Linear.predictProbability(model, x[n], estimate);
            for (int j = 0; j < modelLabels.length; j++) {
                p[n][modelLabels[j]] = (float) estimate[j];
            }
        }
        return p;
    }

    private static Feature[][] vectors(CharNgramTfidf tfidf, List<Example> examples) {
        Feature[][] x = new Feature[examples.size()][];
        for (int i = 0; i < x.length; i++) {
            x[i] = features(tfidf.vector(text(examples.get(i))), tfidf.dimension());
        }
        return x;
    }

    /** A TF-IDF vector as LIBLINEAR features: 1-based indices, the bias feature appended. */
    static Feature[] features(CharNgramTfidf.SparseVector vector, int dimension) {
        int[] indices = vector.indices();
        double[] values = vector.values();
        Feature[] features = new Feature[indices.length + 1];
        for (int j = 0; j < indices.length; j++) {
            features[j] = new FeatureNode(indices[j] + 1, values[j]);
        }
        features[indices.length] = new FeatureNode(dimension + 1, BIAS);
        return features;
    }

    private static int[] indices(List<Example> examples, List<String> labels) {
        int[] y = new int[examples.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = labels.indexOf(examples.get(i).label());
        }
        return y;
    }
}
