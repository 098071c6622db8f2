package dev.sift.model.encode;

import java.util.EnumSet;
import java.util.Set;

/**
 * One forward pass to run: a padded batch, the poolings its caller will read and how many of the
 * encoder's bottom transformer layers' output ("trunk") to return. The encoder fetches only what is
 * asked for, so a pass whose heads all read {@link Pooling#CLS} or {@link Pooling#POOLER} never
 * copies the {@code (B, T, d)} sequence output to the heap, and a trunk-only pass runs only the
 * layers below the trunk's end.
 *
 * @param trunkLayers 0 for no trunk; else the output of layer {@code trunkLayers - 1} (0-based) is
 *     returned, the input of fine-tuned tops that start at layer {@code trunkLayers}
 */
record EncodeRequest(PaddedBatch batch, Set<Pooling> poolings, int trunkLayers) {

    EncodeRequest {
        if (trunkLayers < 0) {
            throw new IllegalArgumentException(
                    "trunkLayers is a count of layers, 0 or more, not " + trunkLayers);
        }
        if (poolings.isEmpty() && trunkLayers == 0) {
            throw new IllegalArgumentException(
                    "Name at least one pooling to fetch, or a trunk of at least one layer");
        }
        poolings = poolings.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(poolings));
    }

    EncodeRequest(PaddedBatch batch, Set<Pooling> poolings) {
        this(batch, poolings, 0);
    }

    /** {@link Pooling#MEAN} reads every position, so only it needs the whole sequence output. */
    boolean needsSequence() {
        return poolings.contains(Pooling.MEAN);
    }

    /** Whether the encoder's last layer must run at all: yes as soon as any pooling is asked. */
    boolean needsFullPass() {
        return !poolings.isEmpty();
    }
}
