package dev.sift.job;

import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.RecordCodec;
import dev.sift.schemas.RecordDecodingException;
import dev.sift.testing.kafka.KafkaTestCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Reads a results topic back as {@link ClassificationResult}s, read_committed. */
public final class Results {

    private static final RecordCodec<ClassificationResult> CODEC =
            RecordCodec.of(ClassificationResult.class);

    private Results() {}

    /**
     * What is committed on {@code topic}: until {@code expected} records arrived or {@code wait}.
     */
    public static List<ClassificationResult> read(
            KafkaTestCluster kafka, String topic, int expected, Duration wait)
            throws RecordDecodingException {
        List<ClassificationResult> results = new ArrayList<>();
        for (var record : kafka.readCommitted(topic, expected, wait)) {
            results.add(CODEC.decode(record.value()));
        }
        return results;
    }
}
