package dev.sift.model.finetune;

import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/** Float arrays in and out of tensors of the graph's float type (float32, or float64 in checks). */
public final class FloatTensors {

    private FloatTensors() {}

    public static Tensor of(Class<? extends TFloating> type, Shape shape, float[] values) {
        if (type == TFloat32.class) {
            return TFloat32.tensorOf(shape, DataBuffers.of(values, true, false));
        }
        if (type == TFloat64.class) {
            double[] doubles = new double[values.length];
            for (int i = 0; i < values.length; i++) {
                doubles[i] = values[i];
            }
            return TFloat64.tensorOf(shape, DataBuffers.of(doubles, true, false));
        }
        throw unsupported(type);
    }

    public static Tensor scalar(Class<? extends TFloating> type, double value) {
        if (type == TFloat32.class) {
            return TFloat32.scalarOf((float) value);
        }
        if (type == TFloat64.class) {
            return TFloat64.scalarOf(value);
        }
        throw unsupported(type);
    }

    public static double[] toDoubles(Tensor tensor) {
        int n = Math.toIntExact(tensor.shape().size());
        double[] values = new double[n];
        if (tensor instanceof TFloat64 doubles) {
            doubles.copyTo(DataBuffers.of(values, false, false));
        } else if (tensor instanceof TFloat32 floats) {
            float[] read = new float[n];
            floats.copyTo(DataBuffers.of(read, false, false));
            for (int i = 0; i < n; i++) {
                values[i] = read[i];
            }
        } else {
            throw new IllegalArgumentException("Not a float tensor: " + tensor.dataType());
        }
        return values;
    }

    public static float[] toFloats(Tensor tensor) {
        if (tensor instanceof TFloat32 floats) {
            float[] values = new float[Math.toIntExact(tensor.shape().size())];
            floats.copyTo(DataBuffers.of(values, false, false));
            return values;
        }
        double[] doubles = toDoubles(tensor);
        float[] values = new float[doubles.length];
        for (int i = 0; i < doubles.length; i++) {
            values[i] = (float) doubles[i];
        }
        return values;
    }

    private static IllegalArgumentException unsupported(Class<?> type) {
        return new IllegalArgumentException("Only float32 and float64 graphs, not " + type);
    }
}
