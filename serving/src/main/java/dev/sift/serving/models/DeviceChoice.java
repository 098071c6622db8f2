package dev.sift.serving.models;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks where a subtask's encoder runs, from the GPUs Flink's external-resource framework assigned
 * to this TaskManager ({@code RuntimeContext#getExternalResourceInfos("gpu")}, each with an {@code
 * index} property, from {@code flink-external-resource-gpu}'s discovery script) and the number of
 * GPUs TensorFlow sees. {@link InferenceOperator#open()} asks it once per subtask.
 *
 * <ul>
 *   <li>Flink assigned GPUs: subtask {@code i} takes the {@code (i mod n)}-th of the {@code n}
 *       assigned indexes, in ascending order, so the slots of a TaskManager spread evenly over its
 *       GPUs and slots on one GPU share one encoder ({@code SharedEncoders} keys by device).
 *   <li>Flink assigned none ({@code external-resources: gpu} not configured) but TensorFlow sees a
 *       GPU: GPU 0, as a lone TaskManager on a GPU host would want.
 *   <li>Anything that does not add up (no GPU anywhere, an assignment without a readable index, an
 *       index TensorFlow does not see): the CPU, with a log line saying why, never a failure.
 * </ul>
 *
 * <p>Flink's discovery script reports {@code nvidia-smi}'s indexes (PCI bus order); TensorFlow
 * numbers GPUs in CUDA's order, fastest first, unless {@code CUDA_DEVICE_ORDER=PCI_BUS_ID} is set
 * in the TaskManager's environment, as deploy/flink/gpu/config.yaml does. In a Kubernetes pod only
 * the GPUs the pod was given are visible, numbered from 0 on both sides.
 *
 * <pre>{@code
 * Device device =
 *         DeviceChoice.choose(
 *                         getRuntimeContext().getExternalResourceInfos(DeviceChoice.GPU_RESOURCE),
 *                         TensorFlowEncoder.visibleGpuCount(),
 *                         getRuntimeContext().getTaskInfo().getIndexOfThisSubtask())
 *                 .device();
 * }</pre>
 *
 * @param device the device to load the encoder on
 * @param reason why, in words, for the log and the dashboard
 */
public record DeviceChoice(Device device, String reason) {

    private static final Logger LOG = LoggerFactory.getLogger(DeviceChoice.class);

    /** The external resource's name: {@code external-resources: gpu} in Flink's configuration. */
    public static final String GPU_RESOURCE = "gpu";

    /** The property Flink's GPU driver sets on each {@link ExternalResourceInfo}. */
    public static final String INDEX = "index";

    /**
     * @param assigned the GPUs Flink assigned; empty when the cluster configures none
     * @param engineGpus how many GPUs TensorFlow sees (0 with CPU-only natives or no CUDA)
     * @param subtask this subtask's index, to spread subtasks over several assigned GPUs
     */
    public static DeviceChoice choose(
            Collection<? extends ExternalResourceInfo> assigned, int engineGpus, int subtask) {
        DeviceChoice choice = decide(assigned, engineGpus, subtask);
        if (choice.device().isGpu()) {
            LOG.info(
                    "Subtask {} runs its encoder on {}: {}",
                    subtask,
                    choice.device(),
                    choice.reason());
        } else {
            LOG.warn("Subtask {} runs its encoder on the CPU: {}", subtask, choice.reason());
        }
        return choice;
    }

    private static DeviceChoice decide(
            Collection<? extends ExternalResourceInfo> assigned, int engineGpus, int subtask) {
        if (assigned.isEmpty()) {
            return engineGpus > 0
                    ? new DeviceChoice(
                            Device.gpu(0),
                            "Flink assigned no GPU (external-resources: gpu is not configured),"
                                    + " but TensorFlow sees "
                                    + engineGpus
                                    + "; using the first")
                    : new DeviceChoice(
                            Device.cpu(),
                            "Flink assigned no GPU (external-resources: gpu is not configured)"
                                    + " and TensorFlow sees none");
        }
        List<String> unreadable = new ArrayList<>();
        TreeSet<Integer> indices = new TreeSet<>();
        for (ExternalResourceInfo info : assigned) {
            Optional<Integer> index = index(info);
            if (index.isPresent()) {
                indices.add(index.get());
            } else {
                unreadable.add(String.valueOf(info.getKeys()));
            }
        }
        if (indices.isEmpty()) {
            return new DeviceChoice(
                    Device.cpu(),
                    "Flink assigned GPUs without a readable '"
                            + INDEX
                            + "' property (keys "
                            + unreadable
                            + ")");
        }
        List<Integer> gpus = List.copyOf(indices);
        int gpu = gpus.get(Math.floorMod(subtask, gpus.size()));
        if (gpu >= engineGpus) {
            return new DeviceChoice(
                    Device.cpu(),
                    "Flink assigned GPU "
                            + gpu
                            + " (of "
                            + gpus
                            + ") but TensorFlow sees "
                            + engineGpus
                            + " GPU(s): is the GPU build of TensorFlow's natives on the classpath,"
                            + " with CUDA 12.3 and cuDNN 8.9 (what TensorFlow 2.16.1 was built"
                            + " with)?");
        }
        return new DeviceChoice(
                Device.gpu(gpu), "subtask " + subtask + " of the GPUs Flink assigned, " + gpus);
    }

    private static Optional<Integer> index(ExternalResourceInfo info) {
        try {
            return info.getProperty(INDEX)
                    .map(String::trim)
                    .map(Integer::parseInt)
                    .filter(i -> i >= 0);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
