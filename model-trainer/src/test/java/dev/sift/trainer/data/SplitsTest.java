package dev.sift.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SplitsTest {

    private final List<Example> examples = examples(300, 100);

    @Test
    void keepsTheLabelMixInEverySplit() {
        Splits splits = Splits.stratified(examples, 0.1, 0.2, 7);

        assertThat(count(splits.test(), "ham")).isEqualTo(60);
        assertThat(count(splits.test(), "spam")).isEqualTo(20);
        assertThat(count(splits.validation(), "ham")).isEqualTo(30);
        assertThat(count(splits.validation(), "spam")).isEqualTo(10);
        assertThat(splits.train()).hasSize(280);
    }

    @Test
    void isDeterministicForASeedAndDiffersAcrossSeeds() {
        assertThat(Splits.stratified(examples, 0.1, 0.2, 7))
                .isEqualTo(Splits.stratified(examples, 0.1, 0.2, 7));
        assertThat(Splits.stratified(examples, 0.1, 0.2, 8).test())
                .isNotEqualTo(Splits.stratified(examples, 0.1, 0.2, 7).test());
    }

    @Test
    void aGivenTestSetIsKeptAndValidationIsCutFromTheRest() {
        List<Example> test = List.of(Example.text("held out", "spam"));

        Splits splits = Splits.withTest(examples, test, 0.1, 7);

        assertThat(splits.test()).isEqualTo(test);
        assertThat(count(splits.validation(), "ham")).isEqualTo(30);
        assertThat(count(splits.validation(), "spam")).isEqualTo(10);
        assertThat(splits.train()).hasSize(360);
        assertThat(splits.train()).doesNotContainAnyElementsOf(splits.validation());
    }

    private static long count(List<Example> examples, String label) {
        return examples.stream().filter(e -> e.label().equals(label)).count();
    }

    static List<Example> examples(int ham, int spam) {
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < ham; i++) {
            examples.add(Example.text("ham " + i, "ham"));
        }
        for (int i = 0; i < spam; i++) {
            examples.add(Example.text("spam " + i, "spam"));
        }
        return examples;
    }
}
