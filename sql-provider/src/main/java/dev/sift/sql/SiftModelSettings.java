package dev.sift.sql;

import static dev.sift.sql.SiftModelOptions.ANNOUNCED;
import static dev.sift.sql.SiftModelOptions.BATCH_MAX_SIZE;
import static dev.sift.sql.SiftModelOptions.BATCH_MAX_TOKENS;
import static dev.sift.sql.SiftModelOptions.BATCH_MAX_WAIT;
import static dev.sift.sql.SiftModelOptions.LATEST;
import static dev.sift.sql.SiftModelOptions.MAX_TEXT_BYTES;
import static dev.sift.sql.SiftModelOptions.MODEL;
import static dev.sift.sql.SiftModelOptions.PUBLIC_KEY;
import static dev.sift.sql.SiftModelOptions.REGISTRY;
import static dev.sift.sql.SiftModelOptions.VERSION;
import static dev.sift.sql.SiftModelOptions.VERSION_REFRESH_INTERVAL;

import dev.sift.model.registry.ModelRegistry;
import dev.sift.schemas.AnnouncementSignatures;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.regex.Pattern;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;

/**
 * What a Sift model in SQL serves and how it batches: the validated values of {@link
 * SiftModelOptions}. Serializable, since the predict function that carries it is built on the
 * client and shipped to the TaskManagers.
 *
 * <pre>{@code
 * SiftModelSettings settings =
 *         SiftModelSettings.builder().registry("/shared/registry").model("spam").build();
 * }</pre>
 */
public final class SiftModelSettings implements Serializable {

    private static final long serialVersionUID = 1L;
    private static final Pattern VERSION_NUMBER = Pattern.compile("[1-9][0-9]{0,18}");

    /** Which version serves: the announced one, the newest published, or a pinned one. */
    public enum Follow {
        ANNOUNCED,
        LATEST,
        PINNED
    }

    private final String registry;
    private final String model;
    private final Follow follow;
    private final long version;
    private final String publicKeyPem;
    private final int maxTextBytes;
    private final Duration refreshInterval;
    private final int maxBatchSize;
    private final int maxBatchTokens;
    private final Duration maxWait;

    private SiftModelSettings(Builder b) {
        this.registry = b.registry;
        this.model = b.model;
        this.follow = b.follow;
        this.version = b.version;
        this.publicKeyPem = b.publicKeyPem;
        this.maxTextBytes = b.maxTextBytes;
        this.refreshInterval = b.refreshInterval;
        this.maxBatchSize = b.maxBatchSize;
        this.maxBatchTokens = b.maxBatchTokens;
        this.maxWait = b.maxWait;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Reads and checks the options of a {@code CREATE MODEL} statement. */
    public static SiftModelSettings from(ReadableConfig options) {
        return builder()
                .registry(options.get(REGISTRY))
                .model(options.get(MODEL))
                .version(options.get(VERSION))
                .publicKeyFile(options.getOptional(PUBLIC_KEY).orElse(null))
                .maxTextBytes(options.get(MAX_TEXT_BYTES))
                .refreshInterval(options.get(VERSION_REFRESH_INTERVAL))
                .maxBatchSize(options.get(BATCH_MAX_SIZE))
                .maxBatchTokens(options.get(BATCH_MAX_TOKENS))
                .maxWait(options.get(BATCH_MAX_WAIT))
                .build();
    }

    public String registry() {
        return registry;
    }

    public String model() {
        return model;
    }

    /** Which version serves, and whether it follows changes. */
    public Follow follow() {
        return follow;
    }

    /** The pinned version; only when {@link #follow()} is {@link Follow#PINNED}. */
    public long pinnedVersion() {
        if (follow != Follow.PINNED) {
            throw new IllegalStateException(model + " follows the " + follow + " version");
        }
        return version;
    }

    /** The key announcements must be signed with (PEM text), or null to accept unsigned ones. */
    public String publicKeyPem() {
        return publicKeyPem;
    }

    /** The most UTF-8 bytes of text a row may carry. */
    public int maxTextBytes() {
        return maxTextBytes;
    }

    public Duration refreshInterval() {
        return refreshInterval;
    }

    public int maxBatchSize() {
        return maxBatchSize;
    }

    public int maxBatchTokens() {
        return maxBatchTokens;
    }

    public Duration maxWait() {
        return maxWait;
    }

    @Override
    public String toString() {
        return model
                + (follow == Follow.PINNED ? " v" + version : " " + follow.name().toLowerCase())
                + " from "
                + registry
                + " (batches of "
                + maxBatchSize
                + ", "
                + maxBatchTokens
                + " tokens, "
                + maxWait.toMillis()
                + " ms)";
    }

    /** Settings by name; {@link #build()} checks them and names the option at fault. */
    public static final class Builder {
        private String registry;
        private String model;
        private Follow follow;
        private long version;
        private String versionText = ANNOUNCED;
        private String publicKeyFile;
        private String publicKeyPem;
        private int maxTextBytes = MAX_TEXT_BYTES.defaultValue();
        private Duration refreshInterval = VERSION_REFRESH_INTERVAL.defaultValue();
        private int maxBatchSize = BATCH_MAX_SIZE.defaultValue();
        private int maxBatchTokens = BATCH_MAX_TOKENS.defaultValue();
        private Duration maxWait = BATCH_MAX_WAIT.defaultValue();

        private Builder() {}

        public Builder registry(String registry) {
            this.registry = registry;
            return this;
        }

        public Builder model(String model) {
            this.model = model;
            return this;
        }

        /** A version number, {@code announced} or {@code latest}. */
        public Builder version(String version) {
            this.versionText = version;
            return this;
        }

        /** The file of the key announcements must be signed with; read by {@link #build()}. */
        public Builder publicKeyFile(String file) {
            this.publicKeyFile = file;
            return this;
        }

        public Builder maxTextBytes(int maxTextBytes) {
            this.maxTextBytes = maxTextBytes;
            return this;
        }

        public Builder refreshInterval(Duration refreshInterval) {
            this.refreshInterval = refreshInterval;
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

        public Builder maxWait(Duration maxWait) {
            this.maxWait = maxWait;
            return this;
        }

        public SiftModelSettings build() {
            if (registry == null || registry.isBlank()) {
                throw invalid(
                        REGISTRY, "must name the model registry folder, e.g. /shared/registry");
            }
            try {
                ModelRegistry.checkName(model);
            } catch (IllegalArgumentException e) {
                throw invalid(MODEL, "is invalid: " + e.getMessage());
            }
            String v = versionText == null ? "" : versionText.trim();
            if (ANNOUNCED.equalsIgnoreCase(v)) {
                follow = Follow.ANNOUNCED;
            } else if (LATEST.equalsIgnoreCase(v)) {
                follow = Follow.LATEST;
            } else if (VERSION_NUMBER.matcher(v).matches()) {
                follow = Follow.PINNED;
                version = Long.parseLong(v);
            } else {
                throw invalid(
                        VERSION,
                        "must be '"
                                + ANNOUNCED
                                + "', '"
                                + LATEST
                                + "' or a version number (1, 2, ...), not '"
                                + versionText
                                + "'");
            }
            if (publicKeyFile != null) {
                if (follow != Follow.ANNOUNCED) {
                    throw invalid(
                            PUBLIC_KEY,
                            "checks announcements, so it needs version '"
                                    + ANNOUNCED
                                    + "', not '"
                                    + versionText
                                    + "'");
                }
                try {
                    publicKeyPem = Files.readString(Path.of(publicKeyFile));
                    AnnouncementSignatures.publicKey(publicKeyPem, publicKeyFile);
                } catch (IOException | GeneralSecurityException | RuntimeException e) {
                    throw invalid(
                            PUBLIC_KEY,
                            "must name a readable Ed25519 public key file (PEM, as 'sift-trainer"
                                    + " keygen' writes), but "
                                    + publicKeyFile
                                    + ": "
                                    + e.getMessage());
                }
            }
            if (maxTextBytes < 1) {
                throw invalid(MAX_TEXT_BYTES, "must be at least 1, not " + maxTextBytes);
            }
            if (refreshInterval == null
                    || refreshInterval.isNegative()
                    || refreshInterval.isZero()) {
                throw invalid(
                        VERSION_REFRESH_INTERVAL,
                        "must be a positive duration such as '30 s', not " + refreshInterval);
            }
            if (maxBatchSize < 1) {
                throw invalid(BATCH_MAX_SIZE, "must be at least 1, not " + maxBatchSize);
            }
            if (maxBatchTokens < 1) {
                throw invalid(BATCH_MAX_TOKENS, "must be at least 1, not " + maxBatchTokens);
            }
            if (maxWait == null || maxWait.isNegative()) {
                throw invalid(
                        BATCH_MAX_WAIT,
                        "must be zero or a positive duration such as '50 ms', not " + maxWait);
            }
            return new SiftModelSettings(this);
        }

        private static ValidationException invalid(ConfigOption<?> option, String problem) {
            return new ValidationException(
                    "Sift model option '" + option.key() + "' " + problem + ".");
        }
    }
}
