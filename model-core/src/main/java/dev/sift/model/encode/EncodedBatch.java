package dev.sift.model.encode;

/**
 * What one encoder pass produced for a batch: the last layer's vectors {@code (B, T, d)} and BERT's
 * pooler output {@code (B, d)}. Any {@link Pooling} is derived from these without running the
 * encoder again, so heads with different poolings share one pass.
 */
public final class EncodedBatch {

    private final PaddedBatch batch;
    private final int hiddenSize;
    private final float[] sequence; // (B, T, d) row-major
    private final float[] pooled; // (B, d) row-major

    EncodedBatch(PaddedBatch batch, int hiddenSize, float[] sequence, float[] pooled) {
        int b = batch.size();
        int t = batch.length();
        if (sequence.length != b * t * hiddenSize) {
            throw new IllegalStateException(
                    "Encoder returned "
                            + sequence.length
                            + " sequence values; expected "
                            + b
                            + "×"
                            + t
                            + "×"
                            + hiddenSize);
        }
        if (pooled.length != b * hiddenSize) {
            throw new IllegalStateException(
                    "Encoder returned "
                            + pooled.length
                            + " pooled values; expected "
                            + b
                            + "×"
                            + hiddenSize);
        }
        this.batch = batch;
        this.hiddenSize = hiddenSize;
        this.sequence = sequence;
        this.pooled = pooled;
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

    /** One {@code d}-vector per input, in input order. */
    public float[][] vectors(Pooling pooling) {
        float[][] out = new float[batch.size()][];
        for (int b = 0; b < out.length; b++) {
            out[b] = vector(b, pooling);
        }
        return out;
    }

    public float[] vector(int b, Pooling pooling) {
        int d = hiddenSize;
        float[] v = new float[d];
        switch (pooling) {
            case CLS -> System.arraycopy(sequence, b * batch.length() * d, v, 0, d);
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
