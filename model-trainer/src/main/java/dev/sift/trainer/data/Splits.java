package dev.sift.trainer.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Stratified train/validation/test splits: each label is shuffled with the seed and cut by the same
 * fractions, so every split keeps the label mix of the whole. The same data and seed always give
 * the same splits.
 */
public record Splits(List<Example> train, List<Example> validation, List<Example> test) {

    public static Splits stratified(
            List<Example> examples, double validationFraction, double testFraction, long seed) {
        if (validationFraction < 0 || testFraction <= 0 || validationFraction + testFraction >= 1) {
            throw new IllegalArgumentException(
                    "Need 0 <= validation, 0 < test and validation + test < 1; got "
                            + validationFraction
                            + " and "
                            + testFraction);
        }
        Map<String, List<Example>> byLabel = new LinkedHashMap<>();
        for (Example example : examples) {
            byLabel.computeIfAbsent(example.label(), k -> new ArrayList<>()).add(example);
        }
        List<Example> train = new ArrayList<>();
        List<Example> validation = new ArrayList<>();
        List<Example> test = new ArrayList<>();
        Random random = new Random(seed);
        for (String label : byLabel.keySet().stream().sorted().toList()) {
            List<Example> group = new ArrayList<>(byLabel.get(label));
            Collections.shuffle(group, random);
            int n = group.size();
            int nTest = (int) Math.round(n * testFraction);
            int nValidation = (int) Math.round(n * validationFraction);
            test.addAll(group.subList(0, nTest));
            validation.addAll(group.subList(nTest, nTest + nValidation));
            train.addAll(group.subList(nTest + nValidation, n));
        }
        Collections.shuffle(train, random);
        return new Splits(train, validation, test);
    }

    /**
     * Keeps a test set given with the data (a corpus' own split) and cuts the validation set from
     * {@code examples}, stratified as in {@link #stratified}.
     */
    public static Splits withTest(
            List<Example> examples, List<Example> test, double validationFraction, long seed) {
        if (validationFraction <= 0 || validationFraction >= 1) {
            throw new IllegalArgumentException(
                    "Need 0 < validation < 1; got " + validationFraction);
        }
        if (test.isEmpty()) {
            throw new IllegalArgumentException("The given test set is empty");
        }
        // Cut validation as a "test" fraction of the training data, then name the parts.
        Splits cut = stratified(examples, 0, validationFraction, seed);
        return new Splits(cut.train(), cut.test(), List.copyOf(test));
    }
}
