package dev.sift.job.infer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import dev.sift.model.bundle.Pooling;
import dev.sift.serving.models.DeviceChoice;
import dev.sift.serving.models.ModelManager;
import dev.sift.serving.testing.TestModels;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.runtime.externalresource.ExternalResourceInfoProvider;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator asks {@link DeviceChoice} with what Flink's runtime gives the subtask: the GPUs of
 * the external resource {@code gpu} and the subtask's index; its encoders load where it decided.
 */
class InferenceOperatorDeviceTest {

    @TempDir Path dir;

    @Test
    void anAssignedGpuTensorFlowCannotSeeFallsBackToTheCpuAndSaysWhy() throws Exception {
        // Index 7: no test machine's TensorFlow sees eight GPUs, with the CPU natives it sees none.
        Opened opened = openWith(gpus("7"), 1);

        assertThat(opened.choice().device()).isEqualTo(Device.cpu());
        assertThat(opened.choice().reason()).contains("assigned GPU 7", "TensorFlow sees");
        assertThat(opened.encoderDevice()).isEqualTo(Device.cpu().toString());
    }

    @Test
    void theSubtaskIndexPicksAmongTheAssignedGpus() throws Exception {
        Opened opened = openWith(gpus("9", "7"), 3);

        assertThat(opened.choice().reason()).contains("assigned GPU 9", "[7, 9]");
    }

    @Test
    void withoutTheGpuResourceTheOperatorSaysNoneWasAssigned() throws Exception {
        Opened opened = openWith(ExternalResourceInfoProvider.NO_EXTERNAL_RESOURCES, 0);

        assertThat(opened.choice().reason()).contains("Flink assigned no GPU");
    }

    /** What the operator decided, and where its encoder loaded. */
    private record Opened(DeviceChoice choice, String encoderDevice) {}

    private Opened openWith(ExternalResourceInfoProvider resources, int subtask) throws Exception {
        new TestModels(dir).publish("spam", 1, Pooling.CLS);
        InferenceOperator operator =
                new InferenceOperator(
                        InferenceSettings.builder()
                                .registry(dir.toString())
                                .resultsTopic("results")
                                .deadLetterTopic("dead-letters")
                                .build());
        var environment =
                new MockEnvironmentBuilder()
                        .setParallelism(4)
                        .setMaxParallelism(128)
                        .setSubtaskIndex(subtask)
                        .setExternalResourceInfoProvider(resources)
                        .build();
        try (var harness = new AbstractStreamOperatorTestHarness<>(operator, environment)) {
            harness.open();
            ModelManager models = operator.models();
            awaitLoads(models);
            return new Opened(operator.device(), models.serving().get("spam").encoder().device());
        }
    }

    private static void awaitLoads(ModelManager models) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (models.pendingLoads() > 0) {
            assertThat(System.nanoTime()).as("model loads finish").isLessThan(deadline);
            Thread.sleep(10);
            models.applyFinishedLoads();
        }
    }

    /** Flink's GPU driver's answer: one resource per GPU, its index as property "index". */
    private static ExternalResourceInfoProvider gpus(String... indexes) {
        Set<ExternalResourceInfo> infos =
                Arrays.stream(indexes).map(GpuIndex::new).collect(Collectors.toSet());
        return name -> DeviceChoice.GPU_RESOURCE.equals(name) ? infos : Set.of();
    }

    private record GpuIndex(String index) implements ExternalResourceInfo {
        @Override
        public Optional<String> getProperty(String key) {
            return Optional.ofNullable(Map.of(DeviceChoice.INDEX, index).get(key));
        }

        @Override
        public Collection<String> getKeys() {
            return Set.of(DeviceChoice.INDEX);
        }
    }
}
