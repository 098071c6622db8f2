package dev.sift.model.bundle;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.sift.model.tokenize.Truncation;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * {@code manifest.json} of one model version, {@code <registry>/<name>/<version>/}: a head (or a
 * fine-tuned top) plus everything needed to serve and to audit it.
 *
 * <p>Two shapes share this record. A head-only model ({@link #FORMAT_VERSION}) has {@code head.bin}
 * and no {@code fineTune}; its JSON is exactly what it was before fine-tuning existed. A fine-tuned
 * model ({@link #FINE_TUNED_FORMAT_VERSION}) has no head file: its head was trained together with
 * its own top layers and reads their output, not the encoder's, so it lives with them in {@code
 * top.bin} (see {@link FineTunedTop}). A reader that knows only version 1 refuses version 2 by its
 * version number instead of serving the head on the wrong vectors.
 *
 * <p>A model that reads more than the head of long texts names its {@link Truncation} and is {@link
 * #TRUNCATION_FORMAT_VERSION}, head-only or fine-tuned: a reader that does not know the field would
 * otherwise ignore it and feed the model other tokens than it was trained on. Models that keep the
 * head leave it out, so their JSON is as before.
 *
 * <p>A model that blends a character n-gram model into its answer ({@link NgramBlend}) is {@link
 * #NGRAM_FORMAT_VERSION}, whatever else it is: a reader that does not know the field would serve
 * the encoder's answer alone, which is not the model that was evaluated.
 *
 * <p>A fine-tuned model whose top is served in 8-bit integers ({@link FineTunedTop#isInt8()}) is
 * {@link #INT8_TOP_FORMAT_VERSION}, whatever else it is: a reader that does not know the field
 * would serve the float32 top, whose answers are not the ones the version was evaluated with.
 *
 * @param encoder the encoder the head reads, by content hash
 * @param pooling how a sequence becomes the head's input vector
 * @param maxSeqLen truncation length, in tokens with specials
 * @param labels label names, in head column order
 * @param headFile the {@code head.bin} inside the bundle; null for a fine-tuned model
 * @param files SHA-256 of every file but the manifest, by relative path
 * @param metrics evaluation figures, name to value
 * @param parentVersion the version this one was trained to replace, or null
 * @param trainingDataHash SHA-256 of the training data, or null
 * @param training training settings (optimizer, seed, epochs ...)
 * @param createdAt ISO-8601 instant
 * @param fineTune the fine-tuned top, or null for a head-only model (then left out of the JSON)
 * @param truncation how long single texts are cut, or null for the head (then left out of the JSON)
 * @param ngrams the n-gram model blended in, or null (then left out of the JSON)
 */
public record ModelManifest(
        String kind,
        int formatVersion,
        String name,
        long version,
        EncoderRef encoder,
        Pooling pooling,
        int maxSeqLen,
        List<String> labels,
        String headFile,
        SortedMap<String, String> files,
        Map<String, Double> metrics,
        Long parentVersion,
        String trainingDataHash,
        Map<String, String> training,
        String createdAt,
        @JsonInclude(JsonInclude.Include.NON_NULL) FineTunedTop fineTune,
        @JsonInclude(JsonInclude.Include.NON_NULL) Truncation truncation,
        @JsonInclude(JsonInclude.Include.NON_NULL) NgramBlend ngrams) {

    public static final String KIND = "model";

    /** The format of a head-only model. */
    public static final int FORMAT_VERSION = 1;

    /** The format of a fine-tuned model: {@code fineTune} set, no head file. */
    public static final int FINE_TUNED_FORMAT_VERSION = 2;

    /**
     * The format of a model that names a {@link Truncation} other than the head; with or without
     * {@code fineTune}.
     */
    public static final int TRUNCATION_FORMAT_VERSION = 3;

    /**
     * The format of a model that blends an n-gram model into its answer; with or without {@code
     * fineTune}, with any truncation.
     */
    public static final int NGRAM_FORMAT_VERSION = 4;

    /**
     * The format of a fine-tuned model whose top is served in 8-bit integers; with or without an
     * n-gram blend, with any truncation.
     */
    public static final int INT8_TOP_FORMAT_VERSION = 5;

    public static final String HEAD_FILE = "head.bin";

    /** The format version a manifest with this top, truncation and n-gram blend is written in. */
    public static int formatVersionFor(
            FineTunedTop fineTune, Truncation truncation, NgramBlend ngrams) {
        if (fineTune != null && fineTune.isInt8()) {
            return INT8_TOP_FORMAT_VERSION;
        }
        if (ngrams != null) {
            return NGRAM_FORMAT_VERSION;
        }
        if (truncation != null && !truncation.isHead()) {
            return TRUNCATION_FORMAT_VERSION;
        }
        return fineTune != null ? FINE_TUNED_FORMAT_VERSION : FORMAT_VERSION;
    }

    /** How single texts longer than {@link #maxSeqLen} are cut: the head unless one is named. */
    @JsonIgnore // derived from truncation; not a field of the JSON
    public Truncation textTruncation() {
        return truncation != null ? truncation : Truncation.HEAD;
    }

    /** Whether this version blends an n-gram model into its answer (see {@link NgramBlend}). */
    @JsonIgnore // derived from ngrams; not a field of the JSON
    public boolean isBlended() {
        return ngrams != null;
    }

    /** Whether this version carries its own top layers (see {@link FineTunedTop}). */
    @JsonIgnore // derived from fineTune; not a field of the JSON
    public boolean isFineTuned() {
        return fineTune != null;
    }

    public ModelManifest withVersion(long newVersion) {
        return new ModelManifest(
                kind,
                formatVersion,
                name,
                newVersion,
                encoder,
                pooling,
                maxSeqLen,
                labels,
                headFile,
                files,
                metrics,
                parentVersion,
                trainingDataHash,
                training,
                createdAt,
                fineTune,
                truncation,
                ngrams);
    }
}
