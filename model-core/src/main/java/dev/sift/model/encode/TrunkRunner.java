package dev.sift.model.encode;

import ai.djl.tensorflow.engine.SavedModelBundle;
import ai.djl.tensorflow.engine.javacpp.JavacppUtils;
import ai.djl.util.Pair;
import dev.sift.model.bundle.EasyBertNames;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.bundle.TensorNames;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.tensorflow.internal.c_api.AbstractTF_Tensor;
import org.tensorflow.internal.c_api.TF_Operation;
import org.tensorflow.internal.c_api.TF_Tensor;
import org.tensorflow.internal.c_api.global.tensorflow;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * Runs passes that fetch middle layers' outputs ("trunks") on the session DJL already loaded, by op
 * name. DJL's block fetches every output of its signature, which always runs all layers; fetching
 * by name lets TensorFlow prune the pass to what the fetches need, so a trunk-only pass runs only
 * the layers below the deepest trunk's end, each layer once however many trunks are fetched, and a
 * pass that also wants poolings gets them and the trunks from one run. The weights stay where DJL
 * loaded them: one copy per encoder.
 *
 * <p>Every native tensor made or returned here is freed before a call returns. Like {@link
 * Predictors}, passes run one at a time unless the device runs them concurrently, and {@link
 * #close()} waits for passes in flight, so the encoder never frees the session under one.
 */
final class TrunkRunner {

    private final SavedModelBundle bundle;
    private final EncoderManifest manifest;
    private final TF_Operation[] inputOps;
    private final int[] inputIndices;
    private final Pair<TF_Operation, Integer> sequenceOutput;
    private final Pair<TF_Operation, Integer> pooledOutput;
    private final Map<Integer, Pair<TF_Operation, Integer>> layerOutputs =
            new ConcurrentHashMap<>();
    private final boolean concurrent;
    private final Object serial;
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    /**
     * @param concurrent whether the device runs passes concurrently (a GPU); else one at a time
     * @param serial what passes hold when they run one at a time, shared with the encoder's
     *     predictor passes
     */
    TrunkRunner(
            SavedModelBundle bundle, EncoderManifest manifest, boolean concurrent, Object serial) {
        this.serial = serial;
        this.bundle = bundle;
        this.manifest = manifest;
        this.concurrent = concurrent;
        SignatureDef signature =
                bundle.getMetaGraphDef().getSignatureDefMap().get(manifest.signature());
        if (signature == null) {
            throw new IllegalArgumentException(
                    "The SavedModel has no signature '" + manifest.signature() + "'");
        }
        TensorNames names = manifest.tensors();
        List<String> inputs = List.of(names.inputIds(), names.inputMask(), names.segmentIds());
        inputOps = new TF_Operation[inputs.size()];
        inputIndices = new int[inputs.size()];
        for (int i = 0; i < inputs.size(); i++) {
            Pair<TF_Operation, Integer> op = op(signature.getInputsMap(), inputs.get(i));
            inputOps[i] = op.getKey();
            inputIndices[i] = op.getValue();
        }
        sequenceOutput = op(signature.getOutputsMap(), names.sequenceOutput());
        pooledOutput = op(signature.getOutputsMap(), names.pooledOutput());
    }

    private Pair<TF_Operation, Integer> op(Map<String, TensorInfo> tensors, String key) {
        TensorInfo info = tensors.get(key);
        if (info == null) {
            throw new IllegalArgumentException(
                    "The signature '"
                            + manifest.signature()
                            + "' has no tensor '"
                            + key
                            + "'; it has "
                            + tensors.keySet());
        }
        return JavacppUtils.getGraphOperationByName(bundle.getGraph(), info.getName());
    }

    private Pair<TF_Operation, Integer> layerOutput(int trunkLayers) {
        Encoders.requireTrunkDepth(trunkLayers, manifest);
        return layerOutputs.computeIfAbsent(
                trunkLayers,
                n ->
                        JavacppUtils.getGraphOperationByName(
                                bundle.getGraph(), EasyBertNames.layerOutput(n - 1)));
    }

    /** One session run fetching every trunk and whatever the request's poolings read. */
    EncodedBatch run(EncodeRequest request) {
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("The encoder is closed; acquire it again");
            }
            if (concurrent) {
                return runOnce(request);
            }
            synchronized (serial) {
                return runOnce(request);
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** Waits for passes in flight and refuses later ones; the session is the model's to close. */
    void close() {
        lifecycle.writeLock().lock();
        try {
            closed = true;
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    private EncodedBatch runOnce(EncodeRequest request) {
        PaddedBatch batch = request.batch();
        int b = batch.size();
        int t = batch.length();
        int d = manifest.hiddenSize();
        List<Pair<TF_Operation, Integer>> fetches = new ArrayList<>();
        for (int depth : request.trunkDepths()) {
            fetches.add(layerOutput(depth));
        }
        boolean wantsSequence = request.poolings().contains(Pooling.CLS) || request.needsSequence();
        boolean wantsPooled = request.poolings().contains(Pooling.POOLER);
        if (wantsSequence) {
            fetches.add(sequenceOutput);
        }
        if (wantsPooled) {
            fetches.add(pooledOutput);
        }
        TF_Operation[] outputOps = new TF_Operation[fetches.size()];
        int[] outputIndices = new int[fetches.size()];
        for (int i = 0; i < outputOps.length; i++) {
            outputOps[i] = fetches.get(i).getKey();
            outputIndices[i] = fetches.get(i).getValue();
        }

        TF_Tensor[] inputs = new TF_Tensor[inputOps.length];
        TF_Tensor[] outputs = null;
        try {
            inputs[0] = intTensor(batch.ids(), b, t);
            inputs[1] = intTensor(batch.mask(), b, t);
            inputs[2] = intTensor(batch.segments(), b, t);
            outputs =
                    JavacppUtils.runSession(
                            bundle.getSession(),
                            null,
                            inputs,
                            inputOps,
                            inputIndices,
                            outputOps,
                            outputIndices,
                            new TF_Operation[0]);
            // A layer's output is [B * T, d]: row-major the same floats as [B, T, d].
            Map<Integer, float[]> trunks = new TreeMap<>();
            int next = 0;
            for (int depth : request.trunkDepths()) {
                trunks.put(depth, floats(outputs[next++], b * t * d));
            }
            float[] cls = null;
            float[] all = null;
            if (wantsSequence) {
                if (request.needsSequence()) {
                    all = floats(outputs[next], b * t * d);
                } else {
                    cls = firstPositions(outputs[next], b, t, d);
                }
                next++;
            }
            float[] pooled = wantsPooled ? floats(outputs[next], b * d) : null;
            return new EncodedBatch(batch, d, request.poolings(), cls, pooled, all, trunks);
        } finally {
            free(inputs);
            free(outputs);
        }
    }

    private static TF_Tensor intTensor(int[] values, int b, int t) {
        TF_Tensor tensor =
                AbstractTF_Tensor.allocateTensor(
                        tensorflow.TF_INT32, new long[] {b, t}, (long) Integer.BYTES * b * t);
        IntBuffer data = view(tensor).asIntBuffer();
        data.put(values, 0, b * t); // allocateTensor leaves the memory uninitialised
        return tensor;
    }

    private static float[] floats(TF_Tensor tensor, int count) {
        FloatBuffer data = view(tensor).asFloatBuffer();
        if (data.remaining() != count) {
            throw new IllegalStateException(
                    "The encoder returned "
                            + data.remaining()
                            + " floats where "
                            + count
                            + " were expected");
        }
        float[] out = new float[count];
        data.get(out);
        return out;
    }

    /** Row 0 of each sequence of a {@code [B, T, d]} tensor, copied without the rest. */
    private static float[] firstPositions(TF_Tensor tensor, int b, int t, int d) {
        FloatBuffer data = view(tensor).asFloatBuffer();
        float[] out = new float[b * d];
        for (int i = 0; i < b; i++) {
            data.position(i * t * d);
            data.get(out, i * d, d);
        }
        return out;
    }

    private static java.nio.ByteBuffer view(TF_Tensor tensor) {
        long bytes = tensorflow.TF_TensorByteSize(tensor);
        return tensorflow.TF_TensorData(tensor)
                .capacity(bytes)
                .limit(bytes)
                .asByteBuffer()
                .order(ByteOrder.nativeOrder());
    }

    private static void free(TF_Tensor[] tensors) {
        if (tensors == null) {
            return;
        }
        for (TF_Tensor tensor : tensors) {
            if (tensor != null) {
                tensor.delete();
            }
        }
    }
}
