package dev.sift.model.encode;

import dev.sift.model.bundle.Pooling;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What one encoder pass fetched for a batch: the {@code h_CLS} vectors {@code (B, d)}, BERT's
 * pooler output {@code (B, d)} and, only when {@link Pooling#MEAN} was asked for, the last layer's
 * vectors {@code (B, T, d)}. Any pooling that was asked for is derived from these without running
 * the encoder again, so heads with different poolings share one pass.
 *
 * <p>When trunks were asked for ({@link Encoder#encode(PaddedBatch, Set, Set)}), it also holds, per
 * depth {@code n} in {@link #trunkDepths()}, the output of the encoder's bottom {@code n} layers,
 * {@code (B, T, d)}: the input of every fine-tuned top that starts above them, as {@code TopBatch}
 * takes it. All came from the same pass.
 */
public final class EncodedBatch {

    private final PaddedBatch batch;
    private final int hiddenSize;
    private final Set<Pooling> poolings;
    private final float[] cls; // (B, d) row-major, or null
    private final float[] pooled; // (B, d) row-major, or null
    private final float[] sequence; // (B, T, d) row-major, or null
    private final SortedMap<Integer, float[]> trunks; // depth -> (B, T, d) row-major

    EncodedBatch(
            PaddedBatch batch,
            int hiddenSize,
            Set<Pooling> poolings,
            float[] cls,
            float[] pooled,
            float[] sequence) {
        this(batch, hiddenSize, poolings, cls, pooled, sequence, Map.of());
    }

    EncodedBatch(
            PaddedBatch batch,
            int hiddenSize,
            Set<Pooling> poolings,
            float[] cls,
            float[] pooled,
            float[] sequence,
            Map<Integer, float[]> trunks) {
        this.batch = batch;
        this.hiddenSize = hiddenSize;
        this.poolings = poolings.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(poolings));
        int b = batch.size();
        this.cls = checked("[CLS]", cls, b, 1, hiddenSize);
        this.pooled = checked("pooled", pooled, b, 1, hiddenSize);
        this.sequence = checked("sequence", sequence, b, batch.length(), hiddenSize);
        TreeMap<Integer, float[]> byDepth = new TreeMap<>();
        for (Map.Entry<Integer, float[]> trunk : trunks.entrySet()) {
            if (trunk.getValue() == null) {
                throw new IllegalStateException(
                        "The encoder fetched no trunk of " + trunk.getKey() + " layers");
            }
            byDepth.put(
                    trunk.getKey(),
                    checked(
                            "trunk " + trunk.getKey(),
                            trunk.getValue(),
                            b,
                            batch.length(),
                            hiddenSize));
        }
        this.trunks = Collections.unmodifiableSortedMap(byDepth);
        for (Pooling pooling : this.poolings) {
            boolean present =
                    switch (pooling) {
                        case CLS -> cls != null || sequence != null;
                        case POOLER -> pooled != null;
                        case MEAN -> sequence != null;
                    };
            if (!present) {
                throw new IllegalStateException("The encoder fetched nothing for " + pooling);
            }
        }
    }

    private static float[] checked(String what, float[] values, int b, int t, int d) {
        if (values != null && values.length != b * t * d) {
            throw new IllegalStateException(
                    "Encoder returned "
                            + values.length
                            + " "
                            + what
                            + " values; expected "
                            + b
                            + "×"
                            + (t == 1 ? "" : t + "×")
                            + d);
        }
        return values;
    }

    public int size() {
        return batch.size();
    }

    public int hiddenSize() {
        return hiddenSize;
    }

    public PaddedBatch batch() {
        return batch;
    }

    /** The poolings this pass was asked for; {@link #vector} serves these only. */
    public Set<Pooling> poolings() {
        return poolings;
    }

    /** The depths of the trunks this pass fetched, ascending; empty when none was asked for. */
    public SortedSet<Integer> trunkDepths() {
        return Collections.unmodifiableSortedSet(new TreeSet<>(trunks.keySet()));
    }

    /**
     * How many bottom layers {@link #trunk()} ran through: the one trunk's depth, the deepest when
     * the pass fetched several, 0 when no trunk was asked for.
     */
    public int trunkLayers() {
        return trunks.isEmpty() ? 0 : trunks.lastKey();
    }

    /**
     * The one trunk this pass fetched; see {@link #trunk(int)}.
     *
     * @throws IllegalStateException when the pass fetched no trunk, or several
     */
    public float[] trunk() {
        if (trunks.size() > 1) {
            throw new IllegalStateException(
                    "This pass fetched trunks of "
                            + trunks.keySet()
                            + " layers; ask trunk(depth) for one of them");
        }
        return trunk(trunkLayers());
    }

    /**
     * The output of the encoder's bottom {@code depth} layers, {@code (B, T, d)} row-major with
     * {@code T = batch().length()}, padded positions included (a top masks them); exactly what
     * {@code TopBatch#hidden} takes. Not copied: do not modify.
     *
     * @throws IllegalStateException when the pass was not asked for a trunk of {@code depth}
     */
    public float[] trunk(int depth) {
        float[] trunk = trunks.get(depth);
        if (trunk == null) {
            throw new IllegalStateException(
                    trunks.isEmpty()
                            ? "This pass fetched no trunk; ask encode(batch, poolings, trunkLayers)"
                                    + " for it"
                            : "This pass fetched trunks of "
                                    + trunks.keySet()
                                    + " layers, not of "
                                    + depth
                                    + "; ask encode(batch, poolings, trunkDepths) for it");
        }
        return trunk;
    }

    /** Bytes this pass copied from the engine to the Java heap. */
    public long heapBytes() {
        long floats = 0;
        for (float[] part : new float[][] {cls, pooled, sequence}) {
            floats += part == null ? 0 : part.length;
        }
        for (float[] trunk : trunks.values()) {
            floats += trunk.length;
        }
        return Float.BYTES * floats;
    }

    /** One {@code d}-vector per input, in input order. */
    public float[][] vectors(Pooling pooling) {
        float[][] out = new float[batch.size()][];
        for (int b = 0; b < out.length; b++) {
            out[b] = vector(b, pooling);
        }
        return out;
    }

    /**
     * @throws IllegalStateException when the pass was not asked for {@code pooling}
     */
    public float[] vector(int b, Pooling pooling) {
        if (!poolings.contains(pooling)) {
            throw new IllegalStateException(
                    "This pass fetched " + poolings + ", not " + pooling + "; ask encode() for it");
        }
        int d = hiddenSize;
        float[] v = new float[d];
        switch (pooling) {
            case CLS -> {
                if (cls != null) {
                    System.arraycopy(cls, b * d, v, 0, d);
                } else {
                    System.arraycopy(sequence, b * batch.length() * d, v, 0, d);
                }
            }
            case POOLER -> System.arraycopy(pooled, b * d, v, 0, d);
            case MEAN -> {
                // Only real positions count; padded ones carry whatever the encoder left there.
                int n = batch.length(b);
                double[] sum = new double[d];
                int row = b * batch.length() * d;
                for (int t = 0; t < n; t++) {
                    int offset = row + t * d;
                    for (int i = 0; i < d; i++) {
                        sum[i] += sequence[offset + i];
                    }
                }
                for (int i = 0; i < d; i++) {
                    v[i] = (float) (sum[i] / n);
                }
            }
        }
        return v;
    }
}
