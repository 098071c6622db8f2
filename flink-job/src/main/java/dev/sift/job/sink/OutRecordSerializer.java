package dev.sift.job.sink;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Writes each {@link OutRecord} to the topic it names. */
public final class OutRecordSerializer implements KafkaRecordSerializationSchema<OutRecord> {

    private static final long serialVersionUID = 1L;

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            OutRecord record, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(record.topic, null, timestamp, record.key, record.value);
    }
}
