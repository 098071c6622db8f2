package dev.sift.model.encode;

import dev.sift.model.bundle.Pooling;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * One forward pass to run: a padded batch, the poolings its caller will read and the depths at
 * which to return the output of the encoder's bottom transformer layers ("trunks"). The encoder
 * fetches only what is asked for, so a pass whose heads all read {@link Pooling#CLS} or {@link
 * Pooling#POOLER} never copies the {@code (B, T, d)} sequence output to the heap, and a trunk-only
 * pass runs only the layers below the deepest trunk's end: the layers run once, however many trunks
 * are fetched from them.
 *
 * @param trunkDepths empty for no trunk; else for each depth {@code n} the output of layer {@code n
 *     - 1} (0-based) is returned, the input of fine-tuned tops that start at layer {@code n}
 */
record EncodeRequest(PaddedBatch batch, Set<Pooling> poolings, SortedSet<Integer> trunkDepths) {

    EncodeRequest {
        for (int depth : trunkDepths) {
            if (depth < 1) {
                throw new IllegalArgumentException(
                        "A trunk depth is a count of layers, 1 or more, not " + depth);
            }
        }
        if (poolings.isEmpty() && trunkDepths.isEmpty()) {
            throw new IllegalArgumentException(
                    "Name at least one pooling to fetch, or a trunk of at least one layer");
        }
        poolings = poolings.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(poolings));
        trunkDepths = Collections.unmodifiableSortedSet(new TreeSet<>(trunkDepths));
    }

    /**
     * @param trunkLayers 0 for no trunk, else the one trunk depth to fetch
     */
    EncodeRequest(PaddedBatch batch, Set<Pooling> poolings, int trunkLayers) {
        this(batch, poolings, depths(trunkLayers));
    }

    EncodeRequest(PaddedBatch batch, Set<Pooling> poolings) {
        this(batch, poolings, 0);
    }

    private static SortedSet<Integer> depths(int trunkLayers) {
        if (trunkLayers < 0) {
            throw new IllegalArgumentException(
                    "trunkLayers is a count of layers, 0 or more, not " + trunkLayers);
        }
        TreeSet<Integer> depths = new TreeSet<>();
        if (trunkLayers > 0) {
            depths.add(trunkLayers);
        }
        return depths;
    }

    /** {@link Pooling#MEAN} reads every position, so only it needs the whole sequence output. */
    boolean needsSequence() {
        return poolings.contains(Pooling.MEAN);
    }
}
