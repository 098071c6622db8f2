package dev.sift.model.bundle;

/**
 * The sizes of one BERT transformer layer: hidden width, attention heads and the feed-forward
 * width. Every layer of an encoder has the same shape.
 *
 * @param hiddenSize width of the vectors between layers (768 for BERT-base)
 * @param heads attention heads; must divide {@code hiddenSize}
 * @param intermediateSize width of the feed-forward layer (3072 for BERT-base)
 */
public record LayerShape(int hiddenSize, int heads, int intermediateSize) {

    /** Google's BERT-base: 768 wide, 12 heads, feed-forward 3072. */
    public static final LayerShape BERT_BASE = new LayerShape(768, 12, 3072);

    public LayerShape {
        if (hiddenSize <= 0 || heads <= 0 || intermediateSize <= 0) {
            throw new IllegalArgumentException(
                    "Layer sizes must be positive: hidden "
                            + hiddenSize
                            + ", heads "
                            + heads
                            + ", intermediate "
                            + intermediateSize);
        }
        if (hiddenSize % heads != 0) {
            throw new IllegalArgumentException(
                    "Hidden size " + hiddenSize + " is not a multiple of " + heads + " heads");
        }
    }

    /** Width of one attention head. */
    public int headSize() {
        return hiddenSize / heads;
    }
}
