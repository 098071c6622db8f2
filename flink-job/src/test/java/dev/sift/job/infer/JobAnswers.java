package dev.sift.job.infer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.job.sink.OutRecord;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.request.ClassifyRequest;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;

/** What the job's inference operator answers, on a fresh start from a registry. */
final class JobAnswers {

    private JobAnswers() {}

    /** The job's results for {@code requests}, one per request and model, in order. */
    static List<ClassificationResult> of(Path registry, List<ClassifyRequest> requests)
            throws Exception {
        var settings =
                InferenceSettings.builder()
                        .registry(registry.toString())
                        .maxBatchSize(requests.size())
                        .batchLookAhead(1) // flush at one batch: the output is read right after
                        .maxBatchTokens(100_000)
                        .maxWaitMillis(1_000)
                        .build();
        try (var harness =
                new TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord>(
                        new InferenceOperator(settings))) {
            harness.open();
            for (ClassifyRequest request : requests) {
                harness.processElement1(new StreamRecord<>(request));
            }
            List<OutRecord> out = harness.extractOutputValues();
            assertThat(out).as("one result per request").hasSize(requests.size());
            RecordCodec<ClassificationResult> codec = RecordCodec.of(ClassificationResult.class);
            List<ClassificationResult> results = new java.util.ArrayList<>();
            for (OutRecord record : out) {
                results.add(codec.decode(record.value));
            }
            return results;
        }
    }
}
