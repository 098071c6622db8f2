package dev.sift.job.sink;

import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.DeadLetter;
import dev.sift.schemas.OutputFormat;
import dev.sift.schemas.RecordCodec;
import dev.sift.schemas.RecordDecodingException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each {@link OutRecord} to the topic it names, with its headers, its value in the job's
 * {@link OutputFormat}.
 *
 * <p>The operators encode results and dead letters once, as Avro, whatever the output format: the
 * format is a property of the sink, and the operators and their tests stay format-blind. For JSON
 * this costs an Avro decode per record at the sink, microseconds against the milliseconds of the
 * inference that produced it.
 *
 * <p>Every record is measured as the producer will measure it before it goes out. One the producer
 * would refuse ({@code RecordTooLargeException}) fails the sink, and with it the task, at the same
 * offset after every restart; instead it is replaced by a small {@code RECORD_TOO_LARGE} dead
 * letter (see {@link DeadLetters#tooLarge}) and counted in the sink's {@code oversizedRecords}
 * metric.
 */
public final class OutRecordSerializer implements KafkaRecordSerializationSchema<OutRecord> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(OutRecordSerializer.class);

    /** The Kafka producer's own default {@code max.request.size}. */
    public static final int DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

    private static final RecordCodec<ClassificationResult> RESULTS =
            RecordCodec.of(ClassificationResult.class);
    private static final RecordCodec<DeadLetter> DEAD_LETTERS = RecordCodec.of(DeadLetter.class);

    private final OutputFormat format;
    private final String deadLetterTopic;
    private final int maxRecordBytes;
    private transient Counter oversized;

    /**
     * @param deadLetterTopic where a record too large to send is replaced by a dead letter
     * @param maxRecordBytes the producer's {@code max.request.size}
     */
    public OutRecordSerializer(OutputFormat format, String deadLetterTopic, int maxRecordBytes) {
        this.format = format;
        this.deadLetterTopic = deadLetterTopic;
        this.maxRecordBytes = maxRecordBytes;
    }

    @Override
    public void open(
            SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
        // The exactly-once writer opens its serializer twice (its own constructor and its
        // superclass's): a second counter of the same name would not be registered, and what it
        // counted would never reach the dashboard.
        if (oversized == null) {
            oversized = context.getMetricGroup().counter("oversizedRecords");
        }
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            OutRecord record, KafkaSinkContext context, Long timestamp) {
        ProducerRecord<byte[], byte[]> out = producerRecord(record, timestamp);
        int size = sizeInBytes(out);
        if (size <= maxRecordBytes) {
            return out;
        }
        if (oversized != null) {
            oversized.inc();
        }
        OutRecord letter = DeadLetters.tooLarge(record, size, maxRecordBytes, deadLetterTopic);
        LOG.warn(
                "A {}-byte record for {} is over max.request.size ({}); sent a dead letter"
                        + " instead: {}",
                size,
                record.topic,
                maxRecordBytes,
                record.headers);
        return producerRecord(letter, timestamp);
    }

    /**
     * The size the producer checks against {@code max.request.size}: Kafka's upper bound for a
     * batch holding just this record, whatever the compression.
     */
    public static int sizeInBytes(ProducerRecord<byte[], byte[]> record) {
        return AbstractRecords.estimateSizeInBytesUpperBound(
                RecordBatch.CURRENT_MAGIC_VALUE,
                CompressionType.NONE,
                record.key(),
                record.value(),
                record.headers().toArray());
    }

    private ProducerRecord<byte[], byte[]> producerRecord(OutRecord record, Long timestamp) {
        return new ProducerRecord<>(
                record.topic, null, timestamp, record.key, value(record), headers(record.headers));
    }

    private byte[] value(OutRecord record) {
        if (format == OutputFormat.AVRO) {
            return record.value;
        }
        try {
            if (RESULTS.accepts(record.value)) {
                return format.results().encode(RESULTS.decode(record.value));
            }
            if (DEAD_LETTERS.accepts(record.value)) {
                return format.deadLetters().encode(DEAD_LETTERS.decode(record.value));
            }
        } catch (RecordDecodingException e) {
            throw new IllegalStateException("The job wrote a record it cannot read", e);
        }
        throw new IllegalStateException(
                "A record for " + record.topic + " is neither a result nor a dead letter");
    }

    private static RecordHeaders headers(Map<String, String> headers) {
        RecordHeaders out = new RecordHeaders();
        headers.forEach(
                (name, value) ->
                        out.add(new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8))));
        return out;
    }
}
