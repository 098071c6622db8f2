package dev.sift.job.infer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.apache.flink.api.common.externalresource.ExternalResourceDriver;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.externalresource.gpu.GPUDriverFactory;
import org.apache.flink.externalresource.gpu.GPUDriverOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DeviceChoice} reads what Flink's own GPU driver ({@code flink-external-resource-gpu}, the
 * plugin a cluster loads for {@code external-resources: gpu}) reports, running on this Flink. The
 * driver runs a discovery script; on a GPU host that is the plugin's {@code
 * nvidia-gpu-discovery.sh} (nvidia-smi's indexes), here a script that prints two indexes the way it
 * does, since this machine has no GPU.
 */
class FlinkGpuDriverTest {

    @TempDir Path dir;

    @Test
    void subtasksSpreadOverTheIndexesFlinksDriverDiscovers() throws Exception {
        Set<? extends ExternalResourceInfo> discovered = discover("echo 3,1", 2);

        assertThat(discovered).hasSize(2);
        assertThat(DeviceChoice.choose(discovered, 4, 0).device()).isEqualTo(Device.gpu(1));
        assertThat(DeviceChoice.choose(discovered, 4, 1).device()).isEqualTo(Device.gpu(3));
        assertThat(DeviceChoice.choose(discovered, 4, 2).device()).isEqualTo(Device.gpu(1));
        assertThat(DeviceChoice.choose(discovered, 0, 0).device()).isEqualTo(Device.cpu());
    }

    private Set<? extends ExternalResourceInfo> discover(String scriptBody, long amount)
            throws Exception {
        Path script = dir.resolve("discover-gpus.sh");
        Files.writeString(script, "#!/bin/sh\n" + scriptBody + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        Configuration parameters = new Configuration();
        parameters.set(GPUDriverOptions.DISCOVERY_SCRIPT_PATH, script.toString());
        ExternalResourceDriver driver =
                new GPUDriverFactory().createExternalResourceDriver(parameters);
        return driver.retrieveResourceInfo(amount);
    }
}
