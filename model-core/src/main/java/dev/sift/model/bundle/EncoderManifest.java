package dev.sift.model.bundle;

import java.util.List;
import java.util.SortedMap;

/**
 * {@code manifest.json} of an encoder bundle: a BERT SavedModel, its tokenizer and the facts needed
 * to run it. {@code contentHash} identifies the encoder; models name it, and one loaded encoder
 * serves every model that names the same hash.
 *
 * @param name human-readable name, e.g. {@code bert-base-uncased}
 * @param source where it was imported from
 * @param savedModelDir folder of the SavedModel inside the bundle
 * @param tags SavedModel tags to load ({@code serve})
 * @param signature serving signature key ({@code serving_default})
 * @param hiddenSize {@code d}, the size of every output vector
 * @param maxSeqLen the longest sequence, in tokens with specials, the encoder accepts
 * @param lowerCase whether the tokenizer lower-cases (uncased models)
 * @param tokenizerFile HuggingFace {@code tokenizer.json} inside the bundle
 * @param files SHA-256 of every file but the manifest, by relative path
 * @param contentHash {@link Digests#contentHash} of {@code files}
 */
public record EncoderManifest(
        String kind,
        int formatVersion,
        String name,
        String source,
        String savedModelDir,
        List<String> tags,
        String signature,
        TensorNames tensors,
        int hiddenSize,
        int maxSeqLen,
        boolean lowerCase,
        String tokenizerFile,
        SortedMap<String, String> files,
        String contentHash,
        String createdAt) {

    public static final String KIND = "encoder";
    public static final int FORMAT_VERSION = 1;
}
