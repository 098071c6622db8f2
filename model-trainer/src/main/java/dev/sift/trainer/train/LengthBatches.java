package dev.sift.trainer.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * One epoch's training batches, texts of similar length side by side: a batch is padded to its
 * longest text, so a random batch of 32 mails read at 256 tokens nearly always pads to 256 while
 * the mails average 214 (SpamAssassin, head-tail:64), and the padding costs as much as real tokens
 * in every layer.
 *
 * <p>The texts are shuffled, cut into pools of {@value #POOL_BATCHES} batches, each pool sorted by
 * length and cut into batches, and the batches shuffled again: each batch is still a random draw
 * from a random pool, and the order of the steps stays random, but a batch pads to little more than
 * its own texts. Deterministic for the {@link Random} it is given.
 */
final class LengthBatches {

    /**
     * Batches per pool: large enough that a pool holds runs of equal lengths for every batch, small
     * enough that the texts of one batch still come from a random slice of the corpus.
     */
    static final int POOL_BATCHES = 50;

    private LengthBatches() {}

    /**
     * The indices {@code 0 .. lengths.length - 1} in batches of {@code batchSize} (the last of each
     * pool may be smaller), every index exactly once.
     */
    static List<int[]> draw(int[] lengths, int batchSize, Random random) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1; got " + batchSize);
        }
        Integer[] order = indices(lengths.length);
        Collections.shuffle(Arrays.asList(order), random);
        int poolSize = batchSize * POOL_BATCHES;
        List<int[]> batches = new ArrayList<>((order.length + batchSize - 1) / batchSize);
        for (int poolStart = 0; poolStart < order.length; poolStart += poolSize) {
            int poolEnd = Math.min(order.length, poolStart + poolSize);
            // Stable: texts of one length keep their shuffled order.
            Arrays.sort(order, poolStart, poolEnd, Comparator.comparingInt(i -> lengths[i]));
            for (int from = poolStart; from < poolEnd; from += batchSize) {
                int to = Math.min(poolEnd, from + batchSize);
                int[] batch = new int[to - from];
                for (int i = from; i < to; i++) {
                    batch[i - from] = order[i];
                }
                batches.add(batch);
            }
        }
        Collections.shuffle(batches, random);
        return batches;
    }

    /** The indices of {@code lengths} from shortest to longest, for batching without training. */
    static int[] byLength(int[] lengths) {
        Integer[] order = indices(lengths.length);
        Arrays.sort(order, Comparator.comparingInt(i -> lengths[i]));
        return Arrays.stream(order).mapToInt(Integer::intValue).toArray();
    }

    private static Integer[] indices(int count) {
        Integer[] indices = new Integer[count];
        Arrays.setAll(indices, i -> i);
        return indices;
    }
}
