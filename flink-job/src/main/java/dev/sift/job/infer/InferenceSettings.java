package dev.sift.job.infer;

import dev.sift.job.config.SiftOptions;
import dev.sift.model.encode.EncoderPrecision;
import java.io.Serializable;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What the inference operator is configured with; plain values only, so the operator stays
 * serializable and loads everything native in {@code open()}. Built with {@link #builder()}, which
 * starts from the job's defaults:
 *
 * <pre>{@code
 * InferenceSettings settings = InferenceSettings.builder().registry("registry").maxBatchSize(8).build();
 * }</pre>
 *
 * @param registry model registry folder
 * @param announcementPublicKeyPem Ed25519 public key (PEM text) announcements must be signed with,
 *     or null to accept unsigned ones
 * @param maxBatchSize the most requests in one encoder pass
 * @param maxBatchTokens the most padded tokens (inputs × longest) in one encoder pass
 * @param batchLookAhead how many passes' worth the buffer collects before a size or token flush: it
 *     flushes at {@code batchLookAhead × maxBatchSize} requests or {@code batchLookAhead ×
 *     maxBatchTokens} tokens, so the planner can sort lengths across that many passes; under
 *     saturation a request can wait for up to that many passes
 * @param maxWaitMillis flush when the oldest waiting request has waited this long
 * @param defaultModels models for requests that name none; empty means every serving model
 * @param servedModels the only models this job serves; empty means every model in the registry
 * @param resultsTopic topic of classification results
 * @param deadLetterTopic topic of refused requests
 * @param shadowTopic topic of shadow versions' answers
 * @param emitAnswers emit every answer on {@link InferenceOperator#ANSWERS}, for the feedback join
 * @param encoderPrecision the arithmetic of encoder passes (float32, or oneDNN bfloat16)
 */
public record InferenceSettings(
        String registry,
        String announcementPublicKeyPem,
        int maxBatchSize,
        int maxBatchTokens,
        int batchLookAhead,
        long maxWaitMillis,
        List<String> defaultModels,
        Set<String> servedModels,
        String resultsTopic,
        String deadLetterTopic,
        String shadowTopic,
        boolean emitAnswers,
        EncoderPrecision encoderPrecision)
        implements Serializable {

    public InferenceSettings {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(resultsTopic, "resultsTopic");
        Objects.requireNonNull(deadLetterTopic, "deadLetterTopic");
        Objects.requireNonNull(shadowTopic, "shadowTopic");
        Objects.requireNonNull(encoderPrecision, "encoderPrecision");
        if (maxBatchSize < 1 || maxBatchTokens < 1 || maxWaitMillis < 0) {
            throw new IllegalArgumentException(
                    "Need maxBatchSize >= 1, maxBatchTokens >= 1 and maxWaitMillis >= 0");
        }
        if (batchLookAhead < 1) {
            throw new IllegalArgumentException(
                    "sift.batch.look-ahead must be at least 1 (1 flushes every pass's worth as it"
                            + " fills), not "
                            + batchLookAhead);
        }
        if ((long) batchLookAhead * maxBatchSize > Integer.MAX_VALUE
                || (long) batchLookAhead * maxBatchTokens > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(
                    "sift.batch.look-ahead "
                            + batchLookAhead
                            + " × sift.batch.max-size "
                            + maxBatchSize
                            + " or × sift.batch.max-tokens "
                            + maxBatchTokens
                            + " is beyond any buffer; lower the look-ahead");
        }
        defaultModels = List.copyOf(defaultModels);
        servedModels = Set.copyOf(servedModels);
        if (!servedModels.isEmpty() && !servedModels.containsAll(defaultModels)) {
            throw new IllegalArgumentException(
                    "Default models "
                            + defaultModels
                            + " must be among the served models "
                            + servedModels);
        }
    }

    /**
     * Flush at this many waiting requests: {@code batchLookAhead} passes of {@code maxBatchSize}.
     */
    public int flushRequests() {
        return batchLookAhead * maxBatchSize;
    }

    /**
     * Flush at this many waiting tokens: {@code batchLookAhead} passes of {@code maxBatchTokens}.
     */
    public int flushTokens() {
        return batchLookAhead * maxBatchTokens;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder()
                .registry(registry)
                .announcementPublicKeyPem(announcementPublicKeyPem)
                .maxBatchSize(maxBatchSize)
                .maxBatchTokens(maxBatchTokens)
                .batchLookAhead(batchLookAhead)
                .maxWaitMillis(maxWaitMillis)
                .defaultModels(defaultModels)
                .servedModels(servedModels)
                .resultsTopic(resultsTopic)
                .deadLetterTopic(deadLetterTopic)
                .shadowTopic(shadowTopic)
                .emitAnswers(emitAnswers)
                .encoderPrecision(encoderPrecision);
    }

    /** Starts from the defaults of {@link SiftOptions}, read from the options themselves. */
    public static final class Builder {
        private String registry = SiftOptions.REGISTRY.defaultValue();
        private String announcementPublicKeyPem;
        private int maxBatchSize = SiftOptions.MAX_BATCH_SIZE.defaultValue();
        private int maxBatchTokens = SiftOptions.MAX_BATCH_TOKENS.defaultValue();
        private int batchLookAhead = SiftOptions.BATCH_LOOK_AHEAD.defaultValue();
        private long maxWaitMillis = SiftOptions.MAX_WAIT.defaultValue().toMillis();
        private List<String> defaultModels = SiftOptions.DEFAULT_MODELS.defaultValue();
        private Set<String> servedModels = Set.copyOf(SiftOptions.SERVED_MODELS.defaultValue());
        private String resultsTopic = SiftOptions.RESULTS_TOPIC.defaultValue();
        private String deadLetterTopic = SiftOptions.DEAD_LETTER_TOPIC.defaultValue();
        private String shadowTopic = SiftOptions.SHADOW_TOPIC.defaultValue();
        private boolean emitAnswers = SiftOptions.FEEDBACK_ENABLED.defaultValue();
        private EncoderPrecision encoderPrecision = SiftOptions.ENCODER_PRECISION.defaultValue();

        private Builder() {}

        public Builder registry(String registry) {
            this.registry = registry;
            return this;
        }

        public Builder announcementPublicKeyPem(String pem) {
            this.announcementPublicKeyPem = pem;
            return this;
        }

        public Builder maxBatchSize(int maxBatchSize) {
            this.maxBatchSize = maxBatchSize;
            return this;
        }

        public Builder maxBatchTokens(int maxBatchTokens) {
            this.maxBatchTokens = maxBatchTokens;
            return this;
        }

        public Builder batchLookAhead(int batchLookAhead) {
            this.batchLookAhead = batchLookAhead;
            return this;
        }

        public Builder maxWaitMillis(long maxWaitMillis) {
            this.maxWaitMillis = maxWaitMillis;
            return this;
        }

        public Builder defaultModels(List<String> defaultModels) {
            this.defaultModels = defaultModels;
            return this;
        }

        public Builder servedModels(Set<String> servedModels) {
            this.servedModels = servedModels;
            return this;
        }

        public Builder resultsTopic(String resultsTopic) {
            this.resultsTopic = resultsTopic;
            return this;
        }

        public Builder deadLetterTopic(String deadLetterTopic) {
            this.deadLetterTopic = deadLetterTopic;
            return this;
        }

        public Builder shadowTopic(String shadowTopic) {
            this.shadowTopic = shadowTopic;
            return this;
        }

        public Builder emitAnswers(boolean emitAnswers) {
            this.emitAnswers = emitAnswers;
            return this;
        }

        public Builder encoderPrecision(EncoderPrecision encoderPrecision) {
            this.encoderPrecision = encoderPrecision;
            return this;
        }

        public InferenceSettings build() {
            return new InferenceSettings(
                    registry,
                    announcementPublicKeyPem,
                    maxBatchSize,
                    maxBatchTokens,
                    batchLookAhead,
                    maxWaitMillis,
                    defaultModels,
                    servedModels,
                    resultsTopic,
                    deadLetterTopic,
                    shadowTopic,
                    emitAnswers,
                    encoderPrecision);
        }
    }
}
