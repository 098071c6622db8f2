package dev.sift.job.infer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.job.sink.OutRecord;
import dev.sift.serving.models.ModelManager;
import dev.sift.serving.request.ClassifyRequest;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Test harnesses around {@link InferenceOperator}, each closed after the test that made it (its
 * models and their shared encoders released). Register as a JUnit extension:
 *
 * <pre>{@code
 * @RegisterExtension final OperatorHarnesses harnesses = new OperatorHarnesses();
 * var harness = harnesses.open(settings);
 * }</pre>
 */
final class OperatorHarnesses implements AfterEachCallback {

    private final List<TwoInputStreamOperatorTestHarness<?, ?, ?>> made = new ArrayList<>();

    /** A harness not yet opened, for tests that restore state or change it before open(). */
    TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> create(
            InferenceSettings settings) throws Exception {
        var harness = new TwoInputStreamOperatorTestHarness<>(new InferenceOperator(settings));
        made.add(harness);
        return harness;
    }

    /** As {@link #create(InferenceSettings)}, as subtask {@code index} of {@code parallelism}. */
    TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> create(
            InferenceSettings settings, int parallelism, int index) throws Exception {
        var harness =
                new TwoInputStreamOperatorTestHarness<>(
                        new InferenceOperator(settings), parallelism, parallelism, index);
        made.add(harness);
        return harness;
    }

    /** A harness, opened: its operator has started from the registry. */
    TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> open(
            InferenceSettings settings) throws Exception {
        var harness = create(settings);
        harness.open();
        return harness;
    }

    static InferenceOperator operator(
            TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> harness) {
        return (InferenceOperator) harness.getOperator();
    }

    /** Waits for the operator's background model loads and swaps them in, as records would. */
    static void awaitLoads(
            TwoInputStreamOperatorTestHarness<ClassifyRequest, byte[], OutRecord> harness)
            throws InterruptedException {
        ModelManager models = operator(harness).models();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (models.pendingLoads() > 0) {
            assertThat(System.nanoTime()).as("model loads finish").isLessThan(deadline);
            Thread.sleep(10);
            models.applyFinishedLoads();
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        try {
            for (var harness : made) {
                harness.close();
            }
        } finally {
            made.clear();
        }
    }
}
