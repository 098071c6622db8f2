package dev.sift.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LengthBatchesTest {

    /** 4,000 texts, the size of SpamAssassin's training split, 1 to 256 tokens long at random. */
    private static int[] mixedLengths() {
        Random random = new Random(7);
        int[] lengths = new int[4000];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = 1 + random.nextInt(256);
        }
        return lengths;
    }

    @Test
    void everyTextIsInExactlyOneBatchOfAtMostTheBatchSize() {
        int[] lengths = mixedLengths();
        List<int[]> batches = LengthBatches.draw(lengths, 32, new Random(1));

        int[] seen = new int[lengths.length];
        for (int[] batch : batches) {
            assertThat(batch.length).isBetween(1, 32);
            for (int index : batch) {
                seen[index]++;
            }
        }
        assertThat(seen).containsOnly(1);
    }

    @Test
    void batchesPadToLittleMoreThanTheirTexts() {
        int[] lengths = mixedLengths();
        long realTokens = Arrays.stream(lengths).asLongStream().sum();

        long paddedTokens = 0;
        for (int[] batch : LengthBatches.draw(lengths, 32, new Random(1))) {
            int longest = Arrays.stream(batch).map(i -> lengths[i]).max().orElseThrow();
            paddedTokens += (long) longest * batch.length;
        }

        // Random batches of 32 from uniform lengths pad to about 1.9x the real tokens.
        assertThat((double) paddedTokens / realTokens).isLessThan(1.05);
    }

    @Test
    void theStepsComeInRandomOrderNotShortestFirst() {
        int[] lengths = mixedLengths();
        List<int[]> batches = LengthBatches.draw(lengths, 32, new Random(1));

        int descents = 0;
        for (int b = 1; b < batches.size(); b++) {
            if (lengths[batches.get(b)[0]] < lengths[batches.get(b - 1)[0]]) {
                descents++;
            }
        }
        // Shuffled: about half the neighbours step down; sorted pools in order would step down
        // only where one pool ends and the next begins.
        assertThat(descents).isGreaterThan(batches.size() / 4);
    }

    @Test
    void theSameSeedDrawsTheSameBatchesAndAnotherSeedOthers() {
        int[] lengths = mixedLengths();

        List<int[]> first = LengthBatches.draw(lengths, 32, new Random(3));
        List<int[]> again = LengthBatches.draw(lengths, 32, new Random(3));
        List<int[]> other = LengthBatches.draw(lengths, 32, new Random(4));

        assertThat(again).zipSatisfy(first, (a, b) -> assertThat(a).containsExactly(b));
        assertThat(Arrays.equals(first.get(0), other.get(0))).isFalse();
    }

    @Test
    void byLengthSortsShortestFirstAndKeepsEveryIndex() {
        int[] lengths = {5, 1, 9, 1, 3};

        assertThat(LengthBatches.byLength(lengths)).containsExactly(1, 3, 4, 0, 2);
    }
}
