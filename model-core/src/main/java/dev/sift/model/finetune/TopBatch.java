package dev.sift.model.finetune;

/**
 * A batch of trunk outputs for the top: {@code size} sequences padded to {@code length} positions
 * of {@code hiddenSize} floats, row-major {@code [size, length, hiddenSize]}, each with its number
 * of real tokens and, when training, its label index.
 *
 * @param size sequences in the batch
 * @param length positions per sequence, padding included
 * @param hidden the trunk's vectors, {@code size * length * hiddenSize} floats
 * @param lengths real tokens per sequence, 1..length; the rest is padding
 * @param labels each sequence's label index, or {@code null} when only predicting
 */
public record TopBatch(int size, int length, float[] hidden, int[] lengths, int[] labels) {

    public TopBatch {
        if (size < 1 || length < 1) {
            throw new IllegalArgumentException("Empty batch: " + size + " x " + length);
        }
        if (hidden.length % ((long) size * length) != 0) {
            throw new IllegalArgumentException(
                    hidden.length + " floats are not " + size + " x " + length + " vectors");
        }
        if (lengths.length != size || (labels != null && labels.length != size)) {
            throw new IllegalArgumentException("lengths and labels need one entry per sequence");
        }
        for (int n : lengths) {
            if (n < 1 || n > length) {
                throw new IllegalArgumentException("A length of " + n + " in a batch of " + length);
            }
        }
    }

    /** The width of each vector. */
    public int hiddenSize() {
        return hidden.length / (size * length);
    }

    /** 1 for real tokens, 0 for padding, {@code [size, length]}. */
    public float[] mask() {
        float[] mask = new float[size * length];
        for (int i = 0; i < size; i++) {
            for (int t = 0; t < lengths[i]; t++) {
                mask[i * length + t] = 1;
            }
        }
        return mask;
    }

    /** The labels one-hot, {@code [size, labels]}. */
    public float[] oneHot(int labelCount) {
        if (labels == null) {
            throw new IllegalStateException("This batch has no labels");
        }
        float[] oneHot = new float[size * labelCount];
        for (int i = 0; i < size; i++) {
            if (labels[i] < 0 || labels[i] >= labelCount) {
                throw new IllegalArgumentException(
                        "Label " + labels[i] + " outside 0.." + (labelCount - 1));
            }
            oneHot[i * labelCount + labels[i]] = 1;
        }
        return oneHot;
    }
}
