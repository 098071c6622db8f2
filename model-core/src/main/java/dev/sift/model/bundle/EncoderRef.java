package dev.sift.model.bundle;

/**
 * What a model manifest records about the encoder its head was trained on. The content hash is the
 * identity; the rest lets a reader understand the model without opening the encoder.
 */
public record EncoderRef(
        String name, String contentHash, TensorNames tensors, int hiddenSize, boolean lowerCase) {

    public static EncoderRef of(EncoderManifest encoder) {
        return new EncoderRef(
                encoder.name(),
                encoder.contentHash(),
                encoder.tensors(),
                encoder.hiddenSize(),
                encoder.lowerCase());
    }
}
