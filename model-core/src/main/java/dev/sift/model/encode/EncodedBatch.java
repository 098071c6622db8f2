package dev.sift.model.encode;

import java.util.EnumSet;
import java.util.Set;

/**
 * What one encoder pass fetched for a batch: the {@code h_CLS} vectors {@code (B, d)}, BERT's
 * pooler output {@code (B, d)} and, only when {@link Pooling#MEAN} was asked for, the last layer's
 * vectors {@code (B, T, d)}. Any pooling that was asked for is derived from these without running
 * the encoder again, so heads with different poolings share one pass.
 *
 * <p>When a trunk was asked for ({@link Encoder#encode(PaddedBatch, Set, int)}), it also holds the
 * output of the encoder's bottom {@link #trunkLayers()} layers, {@code (B, T, d)}: the input of
 * every fine-tuned top that starts above them, as {@code TopBatch} takes it.
 */
public final class EncodedBatch {

    private final PaddedBatch batch;
    private final int hiddenSize;
    private final Set<Pooling> poolings;
    private final float[] cls; // (B, d) row-major, or null
    private final float[] pooled; // (B, d) row-major, or null
    private final float[] sequence; // (B, T, d) row-major, or null
    private final int trunkLayers;
    private final float[] trunk; // (B, T, d) row-major, or null

    EncodedBatch(
            PaddedBatch batch,
            int hiddenSize,
            Set<Pooling> poolings,
            float[] cls,
            float[] pooled,
            float[] sequence) {
        this(batch, hiddenSize, poolings, cls, pooled, sequence, 0, null);
    }

    EncodedBatch(
            PaddedBatch batch,
            int hiddenSize,
            Set<Pooling> poolings,
            float[] cls,
            float[] pooled,
            float[] sequence,
            int trunkLayers,
            float[] trunk) {
        this.batch = batch;
        this.hiddenSize = hiddenSize;
        this.poolings = poolings.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(poolings));
        int b = batch.size();
        this.cls = checked("[CLS]", cls, b, 1, hiddenSize);
        this.pooled = checked("pooled", pooled, b, 1, hiddenSize);
        this.sequence = checked("sequence", sequence, b, batch.length(), hiddenSize);
        this.trunkLayers = trunkLayers;
        this.trunk = checked("trunk", trunk, b, batch.length(), hiddenSize);
        if ((trunkLayers > 0) != (trunk != null)) {
            throw new IllegalStateException(
                    "The encoder fetched "
                            + (trunk == null ? "no" : "a")
                            + " trunk for a request of "
                            + trunkLayers
                            + " trunk layers");
        }
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

    /** How many bottom layers {@link #trunk()} ran through; 0 when no trunk was asked for. */
    public int trunkLayers() {
        return trunkLayers;
    }

    /**
     * The output of the encoder's bottom {@link #trunkLayers()} layers, {@code (B, T, d)} row-major
     * with {@code T = batch().length()}, padded positions included (a top masks them); exactly what
     * {@code TopBatch#hidden} takes. Not copied: do not modify.
     *
     * @throws IllegalStateException when the pass was not asked for a trunk
     */
    public float[] trunk() {
        if (trunk == null) {
            throw new IllegalStateException(
                    "This pass fetched no trunk; ask encode(batch, poolings, trunkLayers) for it");
        }
        return trunk;
    }

    /** Bytes this pass copied from the engine to the Java heap. */
    public long heapBytes() {
        long floats = 0;
        for (float[] part : new float[][] {cls, pooled, sequence, trunk}) {
            floats += part == null ? 0 : part.length;
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
