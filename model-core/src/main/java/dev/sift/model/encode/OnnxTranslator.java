package dev.sift.model.encode;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import dev.sift.model.bundle.TensorNames;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * DJL's side of an ONNX encoder: a {@link PaddedBatch} becomes the graph's int64 inputs, named as
 * the graph names them, and the {@code (B, T, d)} last hidden state comes back to the heap, where
 * {@link EncodedBatch} pools it. Only the inputs the graph declares are fed: some exports of these
 * encoders have no {@code token_type_ids}. On a graph cut to trunks ({@link OnnxGraph#cutTo}) the
 * request's trunks come back too, and the last hidden state only when the request pools.
 */
final class OnnxTranslator implements NoBatchifyTranslator<EncodeRequest, EncodedBatch> {

    private static final String REQUEST = "sift.request";

    private final TensorNames names;
    private final int hiddenSize;
    private final List<String> graphInputs;

    OnnxTranslator(TensorNames names, int hiddenSize, List<String> graphInputs) {
        this.names = names;
        this.hiddenSize = hiddenSize;
        this.graphInputs = graphInputs;
    }

    @Override
    public NDList processInput(TranslatorContext ctx, EncodeRequest request) {
        ctx.setAttachment(REQUEST, request);
        PaddedBatch batch = request.batch();
        NDManager manager = ctx.getNDManager();
        Shape shape = new Shape(batch.size(), batch.length());
        NDList inputs = new NDList(graphInputs.size());
        for (String input : graphInputs) {
            int[] values;
            if (input.equals(names.inputIds())) {
                values = batch.ids();
            } else if (input.equals(names.inputMask())) {
                values = batch.mask();
            } else if (input.equals(names.segmentIds())) {
                values = batch.segments();
            } else {
                throw new IllegalStateException(
                        "The ONNX graph wants an input '"
                                + input
                                + "' that the manifest does not name ("
                                + names
                                + ")");
            }
            NDArray array = manager.create(widen(values), shape);
            array.setName(input);
            inputs.add(array);
        }
        return inputs;
    }

    @Override
    public EncodedBatch processOutput(TranslatorContext ctx, NDList outputs) {
        EncodeRequest request = (EncodeRequest) ctx.getAttachment(REQUEST);
        PaddedBatch batch = request.batch();
        Map<Integer, float[]> trunks = new TreeMap<>();
        for (int depth : request.trunkDepths()) {
            trunks.put(
                    depth,
                    BertTranslator.require(outputs, OnnxGraph.layerOutput(depth - 1))
                            .toFloatArray());
        }
        if (request.poolings().isEmpty()) {
            return new EncodedBatch(batch, hiddenSize, Set.of(), null, null, null, trunks);
        }
        float[] all = BertTranslator.require(outputs, names.sequenceOutput()).toFloatArray();
        float[] cls = null;
        if (!request.needsSequence()) {
            // Only h_CLS is read: keep row 0 of each sequence, not the whole (B, T, d) output.
            cls = new float[batch.size() * hiddenSize];
            for (int b = 0; b < batch.size(); b++) {
                System.arraycopy(
                        all, b * batch.length() * hiddenSize, cls, b * hiddenSize, hiddenSize);
            }
            all = null;
        }
        return new EncodedBatch(batch, hiddenSize, request.poolings(), cls, null, all, trunks);
    }

    private static long[] widen(int[] values) {
        long[] wide = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            wide[i] = values[i];
        }
        return wide;
    }
}
