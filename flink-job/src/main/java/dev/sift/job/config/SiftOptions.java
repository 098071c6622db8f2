package dev.sift.job.config;

import dev.sift.model.encode.EncoderPrecision;
import dev.sift.schemas.OutputFormat;
import dev.sift.serving.classify.BatchClassifier;
import dev.sift.serving.request.RequestLimits;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.description.HtmlFormatter;
import org.apache.flink.connector.base.DeliveryGuarantee;

/**
 * Every setting of the Sift job, typed, with its default and what it does. Set them in a properties
 * file ({@code --config sift.properties}) or as flags ({@code
 * --sift.kafka.bootstrap-servers=host:9092}); flags win.
 */
public final class SiftOptions {

    private SiftOptions() {}

    public static final ConfigOption<String> BOOTSTRAP_SERVERS =
            ConfigOptions.key("sift.kafka.bootstrap-servers")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("Kafka brokers, host:port[,host:port...]. Required.");

    public static final ConfigOption<String> KAFKA_PROPERTIES =
            ConfigOptions.key("sift.kafka.properties-file")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Kafka client properties for every source and sink (security.protocol,"
                                    + " sasl.*, ssl.*).");

    public static final ConfigOption<String> REQUESTS_TOPIC =
            ConfigOptions.key("sift.topics.requests")
                    .stringType()
                    .defaultValue("sift.requests")
                    .withDescription("Topic of text and sentence-pair requests.");

    public static final ConfigOption<String> RESULTS_TOPIC =
            ConfigOptions.key("sift.topics.results")
                    .stringType()
                    .defaultValue("sift.results")
                    .withDescription("Topic classification results are written to.");

    public static final ConfigOption<String> DEAD_LETTER_TOPIC =
            ConfigOptions.key("sift.topics.dead-letters")
                    .stringType()
                    .defaultValue("sift.dead-letters")
                    .withDescription(
                            "Topic refused requests are written to, with code and reason.");

    public static final ConfigOption<String> SHADOW_TOPIC =
            ConfigOptions.key("sift.topics.shadow")
                    .stringType()
                    .defaultValue("sift.shadow")
                    .withDescription(
                            "Topic the answers of shadow versions are written to (announce"
                                    + " --shadow), in the results' format; they never reach the"
                                    + " results topic.");

    public static final ConfigOption<Boolean> FEEDBACK_ENABLED =
            ConfigOptions.key("sift.feedback.enabled")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Join feedback (sift.topics.feedback) to the answers the job gave, for"
                                    + " live accuracy per model version. Off by default: the join"
                                    + " keeps every answer for sift.feedback.ttl, about 200 bytes"
                                    + " each in keyed state (at 100 records/s and a day, 1.7 GB:"
                                    + " use RocksDB for long TTLs).");

    public static final ConfigOption<String> FEEDBACK_TOPIC =
            ConfigOptions.key("sift.topics.feedback")
                    .stringType()
                    .defaultValue("sift.feedback")
                    .withDescription(
                            "Topic of feedback on answers, JSON {\"id\", \"model\", \"label\"},"
                                    + " read when sift.feedback.enabled is on.");

    public static final ConfigOption<Duration> FEEDBACK_TTL =
            ConfigOptions.key("sift.feedback.ttl")
                    .durationType()
                    .defaultValue(Duration.ofDays(1))
                    .withDescription(
                            "How long an answer waits for its feedback, and feedback for its"
                                    + " answer; after that the state is dropped and later feedback"
                                    + " is counted as unmatched.");

    public static final ConfigOption<String> MODELS_TOPIC =
            ConfigOptions.key("sift.topics.models")
                    .stringType()
                    .defaultValue("sift.models")
                    .withDescription("Topic of model announcements from the trainer.");

    public static final ConfigOption<Boolean> CREATE_MISSING_TOPICS =
            ConfigOptions.key("sift.topics.create-missing")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "At start the job checks that its topics (requests, results, dead"
                                + " letters, shadow answers, models, and feedback where"
                                + " sift.feedback.enabled) exist. Off: a missing topic stops the"
                                + " job once, with the kafka-topics.sh command that creates it. On:"
                                + " the job creates the missing ones, the models topic with one"
                                + " partition so announcements keep their order. Off by default"
                                + " since topics are usually an operator's decision.");

    public static final ConfigOption<Integer> TOPIC_PARTITIONS =
            ConfigOptions.key("sift.topics.partitions")
                    .intType()
                    .noDefaultValue()
                    .withDescription(
                            "Partitions of the requests, results and dead-letter topics the job"
                                    + " creates; unset takes the broker's num.partitions.");

    public static final ConfigOption<Integer> TOPIC_REPLICATION_FACTOR =
            ConfigOptions.key("sift.topics.replication-factor")
                    .intType()
                    .noDefaultValue()
                    .withDescription(
                            "Replication factor of the topics the job creates; unset takes the"
                                    + " broker's default.replication.factor.");

    public static final ConfigOption<OutputFormat> OUTPUT_FORMAT =
            ConfigOptions.key("sift.output.format")
                    .enumType(OutputFormat.class)
                    .defaultValue(OutputFormat.JSON)
                    .withDescription(
                            "Encoding of results and dead letters: json (one JSON object per"
                                + " record, the fields of the Avro schema, documented in the"
                                + " schemas module) or avro (Avro single-object encoding, read with"
                                + " Sift's schemas jar). json by default: it is what Kafka's"
                                + " console consumer, Kafka Connect, ksqlDB and Flink SQL's json"
                                + " format read as they are, while this Avro encoding is not the"
                                + " Schema Registry wire format that generic Avro consumers expect."
                                + " avro is smaller and faster for Java consumers.");

    public static final ConfigOption<String> GROUP_ID =
            ConfigOptions.key("sift.kafka.group-id")
                    .stringType()
                    .defaultValue("sift")
                    .withDescription("Consumer group of the request source.");

    public static final ConfigOption<String> REGISTRY =
            ConfigOptions.key("sift.registry")
                    .stringType()
                    .defaultValue("registry")
                    .withDescription(
                            "Model registry, readable by every TaskManager: a folder, or a URI on"
                                + " any filesystem Flink has a plugin for (s3://bucket/registry,"
                                + " hdfs://...). A remote registry's encoders are cached on local"
                                + " disk under <sift home>/registry-cache.");

    public static final ConfigOption<String> ANNOUNCEMENT_PUBLIC_KEY =
            ConfigOptions.key("sift.models.public-key")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Ed25519 public key (PEM file) announcements must be signed with;"
                                    + " unset accepts unsigned announcements.");

    public static final ConfigOption<List<String>> DEFAULT_MODELS =
            ConfigOptions.key("sift.models.default")
                    .stringType()
                    .asList()
                    .defaultValues()
                    .withDescription(
                            "Models for requests that name none, ';'-separated; empty means every"
                                    + " serving model.");

    public static final ConfigOption<List<String>> SERVED_MODELS =
            ConfigOptions.key("sift.models.serve")
                    .stringType()
                    .asList()
                    .defaultValues()
                    .withDescription(
                            "The only models this job serves, ';'-separated; announcements for"
                                    + " others are ignored and requests naming them are"
                                    + " dead-lettered. Empty serves every model in the registry.");

    public static final ConfigOption<Integer> MAX_BATCH_SIZE =
            ConfigOptions.key("sift.batch.max-size")
                    .intType()
                    .defaultValue(BatchClassifier.DEFAULT_MAX_BATCH_SIZE)
                    .withDescription("Flush the buffer when this many requests wait.");

    public static final ConfigOption<Integer> MAX_BATCH_TOKENS =
            ConfigOptions.key("sift.batch.max-tokens")
                    .intType()
                    .defaultValue(BatchClassifier.DEFAULT_MAX_BATCH_TOKENS)
                    .withDescription(
                            "Flush when the waiting requests hold this many tokens; also the"
                                    + " largest padded batch (inputs × longest) sent to the"
                                    + " encoder.");

    // 8 by measurement (BENCHMARKS.md, one run side by side on 2 CPU cores): subject lines went
    // from 0.63x (1) and 0.86x (4) to 0.96x (8) of the raw encoder on the whole stream sorted by
    // length; mixed mails 0.94x, 1.00x, 1.02x.
    public static final ConfigOption<Integer> BATCH_LOOK_AHEAD =
            ConfigOptions.key("sift.batch.look-ahead")
                    .intType()
                    .defaultValue(8)
                    .withDescription(
                            "How many encoder passes' worth of requests the buffer collects before"
                                    + " a size or token flush: it flushes at look-ahead ×"
                                    + " sift.batch.max-size requests or look-ahead ×"
                                    + " sift.batch.max-tokens tokens, and the passes are still cut"
                                    + " at max-size and max-tokens. A wider window lets the batch"
                                    + " planner sort lengths across several passes, so short"
                                    + " texts are not padded up to long ones. The cost is latency:"
                                    + " under saturation a record can wait for up to look-ahead"
                                    + " passes before its result is emitted; sift.batch.max-wait"
                                    + " still bounds the wait under light load. 1 flushes every"
                                    + " pass's worth as it fills.");

    public static final ConfigOption<Duration> MAX_WAIT =
            ConfigOptions.key("sift.batch.max-wait")
                    .durationType()
                    .defaultValue(Duration.ofMillis(50))
                    .withDescription("Flush when the oldest waiting request has waited this long.");

    public static final ConfigOption<Integer> MAX_TEXT_BYTES =
            ConfigOptions.key("sift.requests.max-text-bytes")
                    .intType()
                    .defaultValue(RequestLimits.DEFAULTS.maxTextBytes())
                    .withDescription("Requests with more UTF-8 bytes of text are dead-lettered.");

    public static final ConfigOption<Integer> MAX_ID_LENGTH =
            ConfigOptions.key("sift.requests.max-id-length")
                    .intType()
                    .defaultValue(RequestLimits.DEFAULTS.maxIdLength())
                    .withDescription(
                            "Requests whose id has more characters are dead-lettered with"
                                    + " ID_TOO_LONG; the id is echoed in every result and header.");

    public static final ConfigOption<Integer> MAX_ATTRIBUTES_BYTES =
            ConfigOptions.key("sift.requests.max-attributes-bytes")
                    .intType()
                    .defaultValue(RequestLimits.DEFAULTS.maxAttributesBytes())
                    .withDescription(
                            "Requests whose attributes (names and values, UTF-8) have more bytes"
                                    + " are dead-lettered with ATTRIBUTES_TOO_LARGE; every result"
                                    + " echoes them.");

    public static final ConfigOption<Integer> MAX_MODELS =
            ConfigOptions.key("sift.requests.max-models")
                    .intType()
                    .defaultValue(RequestLimits.DEFAULTS.maxModels())
                    .withDescription(
                            "Requests naming more models (or a model name over 255 characters)"
                                    + " are dead-lettered with MODEL_LIST_TOO_LARGE.");

    public static final ConfigOption<DeliveryGuarantee> DELIVERY_GUARANTEE =
            ConfigOptions.key("sift.sink.delivery-guarantee")
                    .enumType(DeliveryGuarantee.class)
                    .defaultValue(DeliveryGuarantee.EXACTLY_ONCE)
                    .withDescription(
                            "exactly-once (Kafka transactions; read results with"
                                    + " isolation.level=read_committed), at-least-once or"
                                    + " none.");

    public static final ConfigOption<Duration> TRANSACTION_TIMEOUT =
            ConfigOptions.key("sift.sink.transaction-timeout")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(10))
                    .withDescription(
                            "Kafka transaction timeout; must stay below the brokers'"
                                    + " transaction.max.timeout.ms (15 minutes by default).");

    public static final ConfigOption<Duration> CHECKPOINT_INTERVAL =
            ConfigOptions.key("sift.checkpoint.interval")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(10))
                    .withDescription(
                            "Checkpoint interval; exactly-once results become visible at each"
                                    + " checkpoint.");

    public static final ConfigOption<Duration> BUFFER_TIMEOUT =
            ConfigOptions.key("sift.network.buffer-timeout")
                    .durationType()
                    .defaultValue(Duration.ofMillis(10))
                    .withDescription(
                            "How long Flink may hold a partly filled network buffer between tasks."
                                    + " Flink's 100 ms default adds up to that much latency per"
                                    + " task boundary; classification is latency-sensitive and its"
                                    + " records are few and large.");

    public static final ConfigOption<EncoderPrecision> ENCODER_PRECISION =
            ConfigOptions.key("sift.encoder.precision")
                    .enumType(EncoderPrecision.class)
                    .defaultValue(EncoderPrecision.FLOAT32)
                    .withDescription(
                            "float32, or bfloat16: TensorFlow's oneDNN auto mixed precision"
                                    + " (bfloat16 matrix multiplies). Worth it on CPUs with"
                                    + " AVX512_BF16 or AMX (1.6x per pass on the spam test split,"
                                    + " 2 of 1,184 decisions changed; see BENCHMARKS.md); slower"
                                    + " where the CPU has neither.");

    public static final ConfigOption<Integer> PARALLELISM =
            ConfigOptions.key("sift.parallelism")
                    .intType()
                    .defaultValue(1)
                    .withDescription("Parallelism of the job.");

    /**
     * Every option, for validation and {@code --help}: each {@code public static final
     * ConfigOption} of this class, found by reflection so that no option can be documented here and
     * still be rejected as unknown.
     */
    /** An option's description as plain text (Flink keeps it as rich text for its docs). */
    public static String describe(ConfigOption<?> option) {
        return new HtmlFormatter()
                .format(option.description())
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&");
    }

    public static final List<ConfigOption<?>> ALL = declaredOptions();

    private static List<ConfigOption<?>> declaredOptions() {
        List<ConfigOption<?>> options = new ArrayList<>();
        for (Field field : SiftOptions.class.getDeclaredFields()) {
            int modifiers = field.getModifiers();
            if (Modifier.isPublic(modifiers)
                    && Modifier.isStatic(modifiers)
                    && ConfigOption.class.isAssignableFrom(field.getType())) {
                try {
                    options.add((ConfigOption<?>) field.get(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException("A public field is readable", e);
                }
            }
        }
        options.sort(Comparator.comparing(ConfigOption::key));
        return List.copyOf(options);
    }
}
