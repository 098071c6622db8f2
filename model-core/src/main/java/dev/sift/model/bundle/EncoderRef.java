package dev.sift.model.bundle;

/**
 * What a model manifest records about the encoder its head was trained on. The content hash is the
 * identity of the encoder's files; {@code manifestSha256} pins its manifest too ({@link
 * Manifests#canonicalSha256}): the tensor names, tokenizer file, maximum length and layer sizes the
 * serving code reads from it, which the content hash does not cover. Since a model announcement
 * signs the model manifest's hash, a signed announcement thus vouches for the whole serving chain.
 * Null in manifests written before the pin existed; the rest lets a reader understand the model
 * without opening the encoder.
 */
public record EncoderRef(
        String name,
        String contentHash,
        TensorNames tensors,
        int hiddenSize,
        boolean lowerCase,
        String manifestSha256) {

    public static EncoderRef of(EncoderManifest encoder) {
        return new EncoderRef(
                encoder.name(),
                encoder.contentHash(),
                encoder.tensors(),
                encoder.hiddenSize(),
                encoder.lowerCase(),
                Manifests.canonicalSha256(encoder));
    }

    /**
     * Refuses {@code encoder} unless it is the one this reference names: its content hash and,
     * where the reference pins one, its manifest.
     */
    public void requireSame(EncoderManifest encoder, Object where) throws BundleException {
        if (!contentHash.equals(encoder.contentHash())) {
            throw new BundleException(
                    where
                            + ": names encoder "
                            + contentHash
                            + " but was given "
                            + encoder.contentHash());
        }
        if (manifestSha256 != null && !manifestSha256.equals(Manifests.canonicalSha256(encoder))) {
            throw new BundleException(
                    where
                            + ": encoder "
                            + contentHash.substring(0, 12)
                            + "'s manifest is not the one this model was published with (its"
                            + " tensor names, tokenizer, lengths or sizes changed)");
        }
    }
}
