package dev.sift.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalResourceOptions;
import org.apache.flink.configuration.ResourceManagerOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The GPU variant of the deployment: deploy/flink/gpu.yaml on top of config.yaml, and the kustomize
 * overlay deploy/kubernetes/gpu on top of the FlinkDeployment. No GPU and no Kubernetes here, so
 * the files are checked against Flink's own option names, against each other, and the overlay's
 * merge patch is applied to the base manifest as kustomize applies it to a custom resource (RFC
 * 7386: maps merge, everything else is replaced).
 */
class DeployGpuManifestsTest {

    /** The external resource's name; the job reads it as {@code DeviceChoice.GPU_RESOURCE}. */
    private static final String GPU = "gpu";

    private static final String KUBERNETES_CONFIG_KEY =
            ExternalResourceOptions.getSystemConfigKeyConfigOptionForResource(
                    GPU, "kubernetes.config-key");
    private static final String AMOUNT =
            ExternalResourceOptions.getAmountConfigOptionForResource(GPU);
    private static final String DRIVER_FACTORY =
            ExternalResourceOptions.getExternalResourceDriverFactoryConfigOptionForResource(GPU);

    private static final Path ROOT =
            Path.of(System.getProperty("sift.repo.root", "..")).normalize();
    private static final Path DEPLOY = ROOT.resolve("deploy");

    private static Map<String, String> cpuConfig;
    private static Map<String, String> gpuConfig;
    private static JsonNode base;
    private static JsonNode overlay;

    @BeforeAll
    static void load() throws IOException {
        cpuConfig = flatStrings(DeployManifestsITCase.yaml(DEPLOY.resolve("flink/config.yaml")));
        gpuConfig = flatStrings(DeployManifestsITCase.yaml(DEPLOY.resolve("flink/gpu.yaml")));
        base = DeployManifestsITCase.yaml(DEPLOY.resolve("kubernetes/flink-deployment.yaml"));
        JsonNode kustomization =
                DeployManifestsITCase.yaml(DEPLOY.resolve("kubernetes/gpu/kustomization.yaml"));
        assertThat(kustomization.path("resources").toString()).isEqualTo("[\"..\"]");
        JsonNode patch = kustomization.path("patches").path(0);
        assertThat(patch.at("/target/kind").asText()).isEqualTo(base.path("kind").asText());
        assertThat(patch.at("/target/name").asText()).isEqualTo(base.at("/metadata/name").asText());
        assertThat(kustomization.path("patches")).hasSize(1);
        overlay =
                DeployManifestsITCase.yaml(
                        DEPLOY.resolve("kubernetes/gpu").resolve(patch.path("path").asText()));
    }

    @Test
    void theGpuKeysAreFlinksExternalResourceOptionsAndLeaveTheCpuDefaultsAlone() throws Exception {
        assertThat(cpuConfig.keySet()).doesNotContainAnyElementsOf(gpuConfig.keySet());
        assertThat(cpuConfig)
                .doesNotContainKey(ExternalResourceOptions.EXTERNAL_RESOURCE_LIST.key());
        assertThat(base.at("/spec/flinkConfiguration").has("external-resources")).isFalse();

        Configuration merged = Configuration.fromMap(with(cpuConfig, gpuConfig));
        assertThat(merged.get(ExternalResourceOptions.EXTERNAL_RESOURCE_LIST)).containsExactly(GPU);
        assertThat(Long.parseLong(gpuConfig.get(AMOUNT))).isPositive();
        assertThat(gpuConfig.get(KUBERNETES_CONFIG_KEY)).isEqualTo("nvidia.com/gpu");
        // The factory of the GPU plugin Flink's distribution ships (plugins/external-resource-gpu).
        // Its jar is not a test dependency: its pom names a parent, flink-external-resources,
        // that Maven Central does not serve for 2.x, so resolving it fails on a fresh machine.
        assertThat(gpuConfig.get(DRIVER_FACTORY))
                .isEqualTo("org.apache.flink.externalresource.gpu.GPUDriverFactory");
        for (String key : gpuConfig.keySet()) {
            assertThat(key)
                    .as("a key of the external resource or the TaskManager's environment")
                    .satisfiesAnyOf(
                            k ->
                                    assertThat(k)
                                            .isIn(
                                                    ExternalResourceOptions.EXTERNAL_RESOURCE_LIST
                                                            .key(),
                                                    AMOUNT,
                                                    DRIVER_FACTORY,
                                                    KUBERNETES_CONFIG_KEY),
                            k ->
                                    assertThat(k)
                                            .startsWith(
                                                    ResourceManagerOptions
                                                            .CONTAINERIZED_TASK_MANAGER_ENV_PREFIX));
        }
    }

    @Test
    void theOverlayConfiguresWhatGpuYamlDoesAndKeepsTheRest() {
        JsonNode deployment = merge(base, overlay);
        Map<String, String> flink = flatStrings(deployment.at("/spec/flinkConfiguration"));

        assertThat(flink).containsAllEntriesOf(gpuConfig);
        assertThat(flink).containsAllEntriesOf(flatStrings(base.at("/spec/flinkConfiguration")));
        assertThat(deployment.at("/spec/job")).isEqualTo(base.at("/spec/job"));
        assertThat(deployment.at("/spec/podTemplate")).isEqualTo(base.at("/spec/podTemplate"));
        assertThat(deployment.at("/spec/taskManager/resource"))
                .isEqualTo(base.at("/spec/taskManager/resource"));
        assertThat(deployment.at("/spec/image").asText())
                .isEqualTo(
                        base.at("/spec/image")
                                .asText()
                                .replaceFirst("^sift-flink:", "sift-flink-gpu:"));
    }

    @Test
    void theTaskManagerPodRequestsAsManyGpusAsFlinkAssigns() {
        // The lists the patch sets are new: a merge patch replaces lists, it must not drop any.
        assertThat(base.at("/spec/taskManager/podTemplate").isMissingNode()).isTrue();
        JsonNode deployment = merge(base, overlay);
        JsonNode container = deployment.at("/spec/taskManager/podTemplate/spec/containers/0");
        JsonNode limits = container.at("/resources/limits");

        // The operator merges the TaskManager's template into the shared one by container name.
        assertThat(container.path("name").asText())
                .isEqualTo(base.at("/spec/podTemplate/spec/containers/0/name").asText());
        String resource = gpuConfig.get(KUBERNETES_CONFIG_KEY);
        assertThat(limits.has(resource)).as("limits name %s", resource).isTrue();
        assertThat(limits.path(resource).asLong()).isEqualTo(Long.parseLong(gpuConfig.get(AMOUNT)));
        assertThat(limits.size()).isEqualTo(1); // cpu and memory stay with taskManager.resource
        assertThat(deployment.at("/spec/taskManager/podTemplate/spec/tolerations/0/key").asText())
                .isEqualTo(resource);
    }

    /** RFC 7386 JSON merge patch, as kustomize applies a patch to a custom resource. */
    static JsonNode merge(JsonNode target, JsonNode patch) {
        if (!patch.isObject()) {
            return patch.deepCopy();
        }
        ObjectNode result =
                target != null && target.isObject()
                        ? ((ObjectNode) target).deepCopy()
                        : ((ObjectNode) patch).objectNode();
        patch.fields()
                .forEachRemaining(
                        e -> {
                            if (e.getValue().isNull()) {
                                result.remove(e.getKey());
                            } else {
                                result.set(e.getKey(), merge(result.get(e.getKey()), e.getValue()));
                            }
                        });
        return result;
    }

    private static Map<String, String> with(Map<String, String> a, Map<String, String> b) {
        Map<String, String> both = new LinkedHashMap<>(a);
        both.putAll(b);
        return both;
    }

    private static Map<String, String> flatStrings(JsonNode object) {
        Map<String, String> values = new LinkedHashMap<>();
        object.fields().forEachRemaining(e -> values.put(e.getKey(), e.getValue().asText()));
        return values;
    }
}
