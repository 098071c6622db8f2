package dev.sift.sql;

import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * The {@code WITH} options of {@code CREATE MODEL ... WITH ('provider' = 'sift', ...)}. The factory
 * derives its required and optional sets from {@link #REQUIRED} and {@link #OPTIONAL}, so an option
 * listed here is both documented and accepted.
 */
public final class SiftModelOptions {

    /**
     * The value of {@link #VERSION} that follows the announcement the registry recorded, as the
     * streaming job does on a fresh start: the default.
     */
    public static final String ANNOUNCED = "announced";

    /** The value of {@link #VERSION} that follows the registry's newest published version. */
    public static final String LATEST = "latest";

    public static final ConfigOption<String> REGISTRY =
            ConfigOptions.key("registry")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "The model registry, as the job's sift.registry: a folder every"
                                    + " TaskManager can read, or a URI on a Flink filesystem"
                                    + " (s3://, hdfs://).");

    public static final ConfigOption<String> MODEL =
            ConfigOptions.key("model")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("Name of the model in the registry, e.g. spam.");

    public static final ConfigOption<String> VERSION =
            ConfigOptions.key("version")
                    .stringType()
                    .defaultValue(ANNOUNCED)
                    .withDescription(
                            "'announced' to serve what the registry recorded as announced (as"
                                    + " the streaming job does) and follow later announcements,"
                                    + " 'latest' for the newest published version, or a version"
                                    + " number to pin; followed versions are checked every"
                                    + " version.refresh-interval.");

    public static final ConfigOption<String> PUBLIC_KEY =
            ConfigOptions.key("public-key")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "With version 'announced': the file of the Ed25519 public key (PEM)"
                                    + " announcements must be signed with, as the job's"
                                    + " sift.models.public-key. Read where the statement is"
                                    + " planned.");

    public static final ConfigOption<Integer> MAX_TEXT_BYTES =
            ConfigOptions.key("max-text-bytes")
                    .intType()
                    .defaultValue(100_000)
                    .withDescription(
                            "Rows with more UTF-8 bytes of text (both halves of a pair) get no"
                                    + " output row, as the job dead-letters such requests.");

    public static final ConfigOption<Duration> VERSION_REFRESH_INTERVAL =
            ConfigOptions.key("version.refresh-interval")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(30))
                    .withDescription(
                            "With version 'announced' or 'latest': how often the registry is"
                                    + " checked for a change.");

    public static final ConfigOption<Integer> BATCH_MAX_SIZE =
            ConfigOptions.key("batch.max-size")
                    .intType()
                    .defaultValue(32)
                    .withDescription(
                            "Most rows in one encoder pass. ML_PREDICT hands the function at most"
                                    + " 'max-concurrent-operations' rows at a time (default 10),"
                                    + " so raise that to at least this size.");

    public static final ConfigOption<Integer> BATCH_MAX_TOKENS =
            ConfigOptions.key("batch.max-tokens")
                    .intType()
                    .defaultValue(2048)
                    .withDescription(
                            "Most padded tokens (rows x longest row) in one encoder pass.");

    public static final ConfigOption<Duration> BATCH_MAX_WAIT =
            ConfigOptions.key("batch.max-wait")
                    .durationType()
                    .defaultValue(Duration.ofMillis(50))
                    .withDescription(
                            "Longest a row waits for its batch to fill before the batch runs"
                                    + " anyway.");

    public static final List<ConfigOption<?>> REQUIRED = List.of(REGISTRY, MODEL);

    public static final List<ConfigOption<?>> OPTIONAL =
            List.of(
                    VERSION,
                    VERSION_REFRESH_INTERVAL,
                    PUBLIC_KEY,
                    MAX_TEXT_BYTES,
                    BATCH_MAX_SIZE,
                    BATCH_MAX_TOKENS,
                    BATCH_MAX_WAIT);

    private SiftModelOptions() {}
}
