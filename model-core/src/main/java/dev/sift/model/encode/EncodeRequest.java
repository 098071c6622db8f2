package dev.sift.model.encode;

import java.util.EnumSet;
import java.util.Set;

/**
 * One forward pass to run: a padded batch and the poolings its caller will read. The encoder
 * fetches only what those poolings need, so a pass whose heads all read {@link Pooling#CLS} or
 * {@link Pooling#POOLER} never copies the {@code (B, T, d)} sequence output to the heap.
 */
record EncodeRequest(PaddedBatch batch, Set<Pooling> poolings) {

    EncodeRequest {
        if (poolings.isEmpty()) {
            throw new IllegalArgumentException("Name at least one pooling to fetch");
        }
        poolings = Set.copyOf(EnumSet.copyOf(poolings));
    }

    /** {@link Pooling#MEAN} reads every position, so only it needs the whole sequence output. */
    boolean needsSequence() {
        return poolings.contains(Pooling.MEAN);
    }
}
