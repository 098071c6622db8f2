package dev.sift.job.sink;

import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.DeadLetter;
import dev.sift.schemas.OutputFormat;
import dev.sift.schemas.RecordCodec;
import dev.sift.schemas.RecordDecodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Writes each {@link OutRecord} to the topic it names, with its headers, its value in the job's
 * {@link OutputFormat}.
 *
 * <p>The operators encode results and dead letters once, as Avro, whatever the output format: the
 * format is a property of the sink, and the operators and their tests stay format-blind. For JSON
 * this costs an Avro decode per record at the sink, microseconds against the milliseconds of the
 * inference that produced it.
 */
public final class OutRecordSerializer implements KafkaRecordSerializationSchema<OutRecord> {

    private static final long serialVersionUID = 1L;

    private static final RecordCodec<ClassificationResult> RESULTS =
            RecordCodec.of(ClassificationResult.class);
    private static final RecordCodec<DeadLetter> DEAD_LETTERS = RecordCodec.of(DeadLetter.class);

    private final OutputFormat format;

    public OutRecordSerializer(OutputFormat format) {
        this.format = format;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            OutRecord record, KafkaSinkContext context, Long timestamp) {
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

    private static List<Header> headers(Map<String, String> headers) {
        List<Header> out = new ArrayList<>(headers.size());
        headers.forEach(
                (name, value) ->
                        out.add(new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8))));
        return out;
    }
}
