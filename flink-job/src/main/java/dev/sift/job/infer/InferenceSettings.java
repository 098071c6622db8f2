package dev.sift.job.infer;

import java.io.Serializable;
import java.util.List;

/**
 * What the inference operator is configured with; plain values only, so the operator stays
 * serializable and loads everything native in {@code open()}.
 *
 * @param registry model registry folder
 * @param announcementPublicKeyPem Ed25519 public key (PEM text) announcements must be signed with,
 *     or null to accept unsigned ones
 * @param maxBatchSize flush when this many requests wait
 * @param maxBatchTokens flush when the waiting requests hold this many tokens; also the padded size
 *     limit of one encoder batch
 * @param maxWaitMillis flush when the oldest waiting request has waited this long
 * @param defaultModels models for requests that name none; empty means every serving model
 * @param resultsTopic topic of classification results
 * @param deadLetterTopic topic of refused requests
 */
public record InferenceSettings(
        String registry,
        String announcementPublicKeyPem,
        int maxBatchSize,
        int maxBatchTokens,
        long maxWaitMillis,
        List<String> defaultModels,
        String resultsTopic,
        String deadLetterTopic)
        implements Serializable {

    public InferenceSettings {
        if (maxBatchSize < 1 || maxBatchTokens < 1 || maxWaitMillis < 0) {
            throw new IllegalArgumentException(
                    "Need maxBatchSize >= 1, maxBatchTokens >= 1 and maxWaitMillis >= 0");
        }
        defaultModels = List.copyOf(defaultModels);
    }
}
