package dev.sift.job;

import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.OutputFormat;
import dev.sift.schemas.RecordDecodingException;
import dev.sift.testing.kafka.KafkaTestCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Reads a results topic back as {@link ClassificationResult}s, read_committed. */
public final class Results {

    private Results() {}

    /**
     * What is committed on {@code topic}, in either output format: until {@code expected} records
     * arrived or {@code wait}.
     */
    public static List<ClassificationResult> read(
            KafkaTestCluster kafka, String topic, int expected, Duration wait)
            throws RecordDecodingException {
        return read(kafka, topic, null, expected, wait);
    }

    /** As {@link #read(KafkaTestCluster, String, int, Duration)}, failing on any other format. */
    public static List<ClassificationResult> read(
            KafkaTestCluster kafka, String topic, OutputFormat format, int expected, Duration wait)
            throws RecordDecodingException {
        List<ClassificationResult> results = new ArrayList<>();
        for (var record : kafka.readCommitted(topic, expected, wait)) {
            byte[] value = record.value();
            OutputFormat written = format == null ? OutputFormat.of(value) : format;
            results.add(written.results().decode(value));
        }
        return results;
    }
}
