package dev.sift.job;

import dev.sift.job.config.JobArguments;
import dev.sift.job.config.SiftOptions;
import dev.sift.job.decode.RawRecordDeserializer;
import dev.sift.job.infer.InferenceSettings;
import dev.sift.job.sink.OutRecord;
import dev.sift.job.sink.OutRecordSerializer;
import dev.sift.serving.request.RawRecord;
import dev.sift.serving.request.RequestLimits;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Sift streaming job on Kafka.
 *
 * <pre>
 * flink run sift-flink-job.jar --config sift.properties --sift.parallelism=4
 * </pre>
 *
 * Requests are read from their committed offsets (earliest on first start). Announcements are read
 * from {@link #ANNOUNCEMENT_REPLAY} before the job was built: a fresh start serves what the
 * registry recorded when the job was built (announcers record before they send), so any
 * announcement sent after that is still read, and one read twice is ignored; a restored job takes
 * its models and offsets from the checkpoint.
 */
public final class SiftJob {

    private static final Logger LOG = LoggerFactory.getLogger(SiftJob.class);

    /**
     * How far before the job was built its announcement source starts: slack for the clocks of the
     * announcer, which stamps the records, and of the client that builds the job.
     */
    static final Duration ANNOUNCEMENT_REPLAY = Duration.ofMinutes(1);

    private SiftJob() {}

    public static void main(String[] args) throws Exception {
        if (JobArguments.helpRequested(args)) {
            System.out.print(JobArguments.usage());
            return;
        }
        Configuration config = parseArgs(args);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        wire(env, config);
        env.execute("sift");
    }

    /**
     * Checks the job's topics ({@link TopicCheck}), then adds Sift to {@code env}: checkpointing,
     * Kafka sources, the pipeline and the Kafka sink.
     */
    public static void wire(StreamExecutionEnvironment env, Configuration config)
            throws IOException {
        TopicCheck.of(config).run();
        env.setParallelism(config.get(SiftOptions.PARALLELISM));
        env.setBufferTimeout(config.get(SiftOptions.BUFFER_TIMEOUT).toMillis());
        env.enableCheckpointing(
                config.get(SiftOptions.CHECKPOINT_INTERVAL).toMillis(),
                CheckpointingMode.EXACTLY_ONCE);
        DataStream<RawRecord> requests =
                env.fromSource(requestSource(config), WatermarkStrategy.noWatermarks(), "requests")
                        .uid("sift-requests");
        DataStream<byte[]> announcements =
                env.fromSource(
                                announcementSource(config),
                                WatermarkStrategy.noWatermarks(),
                                "models")
                        .uid("sift-models")
                        .setParallelism(1);
        DataStream<RawRecord> feedback =
                config.get(SiftOptions.FEEDBACK_ENABLED)
                        ? env.fromSource(
                                        feedbackSource(config),
                                        WatermarkStrategy.noWatermarks(),
                                        "feedback")
                                .uid("sift-feedback")
                        : null;
        SiftPipeline.build(
                        requests,
                        announcements,
                        feedback,
                        config.get(SiftOptions.FEEDBACK_TTL),
                        inferenceSettings(config),
                        requestLimits(config))
                .sinkTo(sink(config))
                .name("kafka-sink")
                .uid("sift-sink");
    }

    /** Requests from their committed offsets, or the earliest on a group's first start. */
    public static KafkaSource<RawRecord> requestSource(Configuration config) throws IOException {
        return KafkaSource.<RawRecord>builder()
                .setBootstrapServers(require(config, SiftOptions.BOOTSTRAP_SERVERS))
                .setProperties(kafkaProperties(config))
                .setTopics(config.get(SiftOptions.REQUESTS_TOPIC))
                .setGroupId(config.get(SiftOptions.GROUP_ID))
                .setStartingOffsets(
                        OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new RawRecordDeserializer())
                .build();
    }

    /** Feedback from its committed offsets, or the earliest on the group's first start. */
    public static KafkaSource<RawRecord> feedbackSource(Configuration config) throws IOException {
        return KafkaSource.<RawRecord>builder()
                .setBootstrapServers(require(config, SiftOptions.BOOTSTRAP_SERVERS))
                .setProperties(kafkaProperties(config))
                .setTopics(config.get(SiftOptions.FEEDBACK_TOPIC))
                .setGroupId(config.get(SiftOptions.GROUP_ID) + "-feedback")
                .setStartingOffsets(
                        OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new RawRecordDeserializer())
                .build();
    }

    /** Announcements from shortly before now (see the class comment). */
    public static KafkaSource<byte[]> announcementSource(Configuration config) throws IOException {
        return KafkaSource.<byte[]>builder()
                .setBootstrapServers(require(config, SiftOptions.BOOTSTRAP_SERVERS))
                .setProperties(kafkaProperties(config))
                .setTopics(config.get(SiftOptions.MODELS_TOPIC))
                .setGroupId(config.get(SiftOptions.GROUP_ID) + "-models")
                .setStartingOffsets(
                        OffsetsInitializer.timestamp(
                                System.currentTimeMillis() - ANNOUNCEMENT_REPLAY.toMillis()))
                .setDeserializer(
                        KafkaRecordDeserializationSchema.valueOnly(ByteArrayDeserializer.class))
                .build();
    }

    /**
     * Results and dead letters, exactly-once unless configured otherwise, in the configured {@link
     * SiftOptions#OUTPUT_FORMAT}.
     */
    public static KafkaSink<OutRecord> sink(Configuration config) throws IOException {
        Properties producer = kafkaProperties(config);
        producer.setProperty(
                "transaction.timeout.ms",
                Long.toString(config.get(SiftOptions.TRANSACTION_TIMEOUT).toMillis()));
        DeliveryGuarantee guarantee = config.get(SiftOptions.DELIVERY_GUARANTEE);
        var builder =
                KafkaSink.<OutRecord>builder()
                        .setBootstrapServers(require(config, SiftOptions.BOOTSTRAP_SERVERS))
                        .setKafkaProducerConfig(producer)
                        .setRecordSerializer(
                                new OutRecordSerializer(
                                        config.get(SiftOptions.OUTPUT_FORMAT),
                                        config.get(SiftOptions.DEAD_LETTER_TOPIC),
                                        maxRecordBytes(producer)))
                        .setDeliveryGuarantee(guarantee);
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE) {
            builder.setTransactionalIdPrefix(
                    "sift-"
                            + config.get(SiftOptions.GROUP_ID)
                            + "-"
                            + config.get(SiftOptions.RESULTS_TOPIC));
        }
        return builder.build();
    }

    /** The producer's {@code max.request.size}: the Kafka properties file's, or Kafka's default. */
    static int maxRecordBytes(Properties producer) {
        String configured = producer.getProperty(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        if (configured == null) {
            return OutRecordSerializer.DEFAULT_MAX_RECORD_BYTES;
        }
        try {
            return Integer.parseInt(configured.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "Bad max.request.size in "
                            + SiftOptions.KAFKA_PROPERTIES.key()
                            + ": "
                            + configured
                            + " is not a number of bytes",
                    e);
        }
    }

    public static InferenceSettings inferenceSettings(Configuration config) throws IOException {
        String keyFile = config.get(SiftOptions.ANNOUNCEMENT_PUBLIC_KEY);
        if (keyFile == null) {
            LOG.warn(
                    "No {} is configured: this job obeys unsigned model announcements, so anyone"
                            + " who can write {} can change what it serves. Configure the"
                            + " trainer's public key (sift-trainer keygen) to require signatures.",
                    SiftOptions.ANNOUNCEMENT_PUBLIC_KEY.key(),
                    config.get(SiftOptions.MODELS_TOPIC));
        }
        return InferenceSettings.builder()
                .registry(config.get(SiftOptions.REGISTRY))
                .announcementPublicKeyPem(
                        keyFile == null ? null : Files.readString(Path.of(keyFile)))
                .maxBatchSize(config.get(SiftOptions.MAX_BATCH_SIZE))
                .maxBatchTokens(config.get(SiftOptions.MAX_BATCH_TOKENS))
                .batchLookAhead(config.get(SiftOptions.BATCH_LOOK_AHEAD))
                .maxWaitMillis(config.get(SiftOptions.MAX_WAIT).toMillis())
                .defaultModels(config.get(SiftOptions.DEFAULT_MODELS))
                .servedModels(Set.copyOf(config.get(SiftOptions.SERVED_MODELS)))
                .resultsTopic(config.get(SiftOptions.RESULTS_TOPIC))
                .deadLetterTopic(config.get(SiftOptions.DEAD_LETTER_TOPIC))
                .shadowTopic(config.get(SiftOptions.SHADOW_TOPIC))
                .emitAnswers(config.get(SiftOptions.FEEDBACK_ENABLED))
                .encoderPrecision(config.get(SiftOptions.ENCODER_PRECISION))
                .build();
    }

    public static RequestLimits requestLimits(Configuration config) {
        return new RequestLimits(
                atLeast(config, SiftOptions.MAX_TEXT_BYTES, 1),
                atLeast(config, SiftOptions.MAX_ID_LENGTH, 1),
                atLeast(config, SiftOptions.MAX_ATTRIBUTES_BYTES, 0),
                atLeast(config, SiftOptions.MAX_MODELS, 1));
    }

    private static int atLeast(Configuration config, ConfigOption<Integer> option, int least) {
        int value = config.get(option);
        if (value < least) {
            throw new IllegalArgumentException(
                    option.key() + " must be at least " + least + ", not " + value);
        }
        return value;
    }

    static Properties kafkaProperties(Configuration config) throws IOException {
        Properties properties = new Properties();
        String file = config.get(SiftOptions.KAFKA_PROPERTIES);
        if (file != null) {
            try (Reader reader = Files.newBufferedReader(Path.of(file))) {
                properties.load(reader);
            }
        }
        return properties;
    }

    /** The job's configuration from its command line: see {@link JobArguments}. */
    public static Configuration parseArgs(String... args) throws IOException {
        return JobArguments.parse(args);
    }

    static <T> T require(Configuration config, ConfigOption<T> option) {
        T value = config.get(option);
        if (value == null) {
            throw new IllegalArgumentException(
                    "Missing " + option.key() + ": " + SiftOptions.describe(option));
        }
        return value;
    }
}
