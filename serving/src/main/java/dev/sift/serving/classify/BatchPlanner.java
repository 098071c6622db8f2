package dev.sift.serving.classify;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a length-sorted list of inputs into encoder batches at least cost. A forward pass costs
 * about a fixed overhead plus a price per padded token (BERT-base on this project's 2-core machine:
 * ~46 ms + ~0.55 ms per token, i.e. an overhead worth ~84 tokens; a GPU's overhead is worth
 * thousands), so the plan minimizes {@code Σ (batch size × its longest input) + overhead × passes},
 * within the size and padded-token limits. The overhead is the encoder's, measured when it loaded
 * ({@link dev.sift.model.encode.PassCost}). Mixing 15-token subject lines into a batch of 128-token
 * mails would pad them eightfold; running every input alone would pay the overhead each time.
 * Dynamic programming over the sorted lengths finds the best split exactly, in O(n · maxBatchSize).
 */
final class BatchPlanner {

    private BatchPlanner() {}

    /**
     * @param sortedLengths token lengths in ascending order
     * @param passOverheadTokens a pass's fixed cost in padded-token equivalents
     * @return {@code [from, to)} index ranges covering every input, in order
     */
    static List<int[]> plan(
            int[] sortedLengths, int maxBatchSize, int maxBatchTokens, int passOverheadTokens) {
        int n = sortedLengths.length;
        long[] cost = new long[n + 1];
        int[] cut = new int[n + 1];
        for (int to = 1; to <= n; to++) {
            cost[to] = Long.MAX_VALUE;
            int longest = sortedLengths[to - 1];
            for (int from = to - 1; from >= 0 && to - from <= maxBatchSize; from--) {
                int size = to - from;
                // A single input always fits: it cannot be split further.
                if (size > 1 && (long) size * longest > maxBatchTokens) {
                    break;
                }
                long candidate = cost[from] + (long) size * longest + passOverheadTokens;
                if (candidate < cost[to]) {
                    cost[to] = candidate;
                    cut[to] = from;
                }
            }
        }
        List<int[]> batches = new ArrayList<>();
        for (int to = n; to > 0; to = cut[to]) {
            batches.add(0, new int[] {cut[to], to});
        }
        return batches;
    }
}
