package dev.sift.model.bundle;

import dev.sift.model.encode.Pooling;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * {@code manifest.json} of one model version, {@code <registry>/<name>/<version>/}: a head plus
 * everything needed to serve and to audit it.
 *
 * @param encoder the encoder the head reads, by content hash
 * @param pooling how a sequence becomes the head's input vector
 * @param maxSeqLen truncation length, in tokens with specials
 * @param labels label names, in head column order
 * @param headFile the {@code head.bin} inside the bundle
 * @param files SHA-256 of every file but the manifest, by relative path
 * @param metrics evaluation figures, name to value
 * @param parentVersion the version this one was trained to replace, or null
 * @param trainingDataHash SHA-256 of the training data, or null
 * @param training training settings (optimizer, seed, epochs ...)
 * @param createdAt ISO-8601 instant
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
        String createdAt) {

    public static final String KIND = "model";
    public static final int FORMAT_VERSION = 1;
    public static final String HEAD_FILE = "head.bin";

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
                createdAt);
    }
}
