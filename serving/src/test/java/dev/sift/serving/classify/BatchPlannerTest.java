package dev.sift.serving.classify;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchPlannerTest {

    @Test
    void keepsShortInputsOutOfLongInputsBatches() {
        int[] lengths = new int[32];
        Arrays.fill(lengths, 0, 16, 15); // subject lines
        Arrays.fill(lengths, 16, 32, 128); // whole mails

        assertThat(ranges(BatchPlanner.plan(lengths, 32, 4096, 84)))
                .containsExactly("0-16", "16-32");
    }

    @Test
    void prefersFewerPassesWhenLengthsAreEqual() {
        int[] lengths = new int[10];
        Arrays.fill(lengths, 20);

        assertThat(BatchPlanner.plan(lengths, 4, 10_000, 84)).hasSize(3);
    }

    @Test
    void respectsThePaddedTokenBudgetButNeverDropsAnInput() {
        List<int[]> plan = BatchPlanner.plan(new int[] {100, 100, 100, 100, 100}, 32, 250, 84);
        assertThat(plan).hasSize(3).allSatisfy(r -> assertThat(r[1] - r[0]).isBetween(1, 2));
        assertThat(plan.get(0)[0]).isZero();
        assertThat(plan.get(2)[1]).isEqualTo(5);
        assertThat(ranges(BatchPlanner.plan(new int[] {500}, 32, 250, 84))).containsExactly("0-1");
        assertThat(BatchPlanner.plan(new int[0], 32, 250, 84)).isEmpty();
    }

    @Test
    void aLoneShortInputJoinsItsNeighboursRatherThanPayingForAPass() {
        // 12 padded to 14 costs 2 tokens; a pass of its own would cost 84.
        assertThat(ranges(BatchPlanner.plan(new int[] {12, 14, 14, 14}, 32, 4096, 84)))
                .containsExactly("0-4");
    }

    @Test
    void theMeasuredOverheadDecidesWhetherPaddingOrAPassIsCheaper() {
        int[] lengths = {12, 60, 60, 60};

        // Padding 12 to 60 costs 48 tokens: worth it against an 84-token pass, not a 10-token one.
        assertThat(ranges(BatchPlanner.plan(lengths, 32, 4096, 84))).containsExactly("0-4");
        assertThat(ranges(BatchPlanner.plan(lengths, 32, 4096, 10))).containsExactly("0-1", "1-4");
    }

    private static List<String> ranges(List<int[]> plan) {
        return plan.stream().map(r -> r[0] + "-" + r[1]).toList();
    }
}
