package dev.sift.serving.models;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.junit.jupiter.api.Test;

class DeviceChoiceTest {

    @Test
    void spreadsSubtasksOverTheAssignedGpus() {
        List<ExternalResourceInfo> assigned = List.of(gpu("3"), gpu("1"));

        assertThat(DeviceChoice.choose(assigned, 4, 0).device()).isEqualTo(Device.gpu(1));
        assertThat(DeviceChoice.choose(assigned, 4, 1).device()).isEqualTo(Device.gpu(3));
        assertThat(DeviceChoice.choose(assigned, 4, 2).device()).isEqualTo(Device.gpu(1));
    }

    @Test
    void fallsBackToTheCpuWhenTensorFlowCannotSeeTheAssignedGpu() {
        DeviceChoice choice = DeviceChoice.choose(List.of(gpu("0")), 0, 0);

        assertThat(choice.device()).isEqualTo(Device.cpu());
        assertThat(choice.reason()).contains("assigned GPU 0", "TensorFlow sees 0");
        assertThat(DeviceChoice.choose(List.of(gpu("2")), 2, 0).device()).isEqualTo(Device.cpu());
    }

    @Test
    void fallsBackToTheCpuWhenTheAssignmentHasNoReadableIndex() {
        ExternalResourceInfo noIndex = info(Map.of("uuid", "GPU-1234"));

        assertThat(DeviceChoice.choose(List.of(noIndex, gpu("x")), 2, 0).device())
                .isEqualTo(Device.cpu());
        assertThat(DeviceChoice.choose(List.of(noIndex, gpu("1")), 2, 0).device())
                .isEqualTo(Device.gpu(1));
    }

    @Test
    void withoutFlinkGpusUsesWhatTensorFlowSees() {
        assertThat(DeviceChoice.choose(List.of(), 0, 5).device()).isEqualTo(Device.cpu());
        assertThat(DeviceChoice.choose(List.of(), 2, 5).device()).isEqualTo(Device.gpu(0));
    }

    private static ExternalResourceInfo gpu(String index) {
        return info(Map.of(DeviceChoice.INDEX, index));
    }

    private static ExternalResourceInfo info(Map<String, String> properties) {
        return new ExternalResourceInfo() {
            @Override
            public Optional<String> getProperty(String key) {
                return Optional.ofNullable(properties.get(key));
            }

            @Override
            public Collection<String> getKeys() {
                return Set.copyOf(properties.keySet());
            }
        };
    }
}
