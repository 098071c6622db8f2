package dev.sift.model.encode;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import dev.sift.model.bundle.TensorNames;

/**
 * DJL's side of the encoder: turns a {@link PaddedBatch} into the SavedModel's three int32 inputs,
 * named as its serving signature wants, and its two outputs back into an {@link EncodedBatch}. The
 * batch is already a batch, so DJL's own batchifier stays out of the way.
 */
final class BertTranslator implements NoBatchifyTranslator<PaddedBatch, EncodedBatch> {

    private static final String BATCH = "sift.batch";

    private final TensorNames names;
    private final int hiddenSize;

    BertTranslator(TensorNames names, int hiddenSize) {
        this.names = names;
        this.hiddenSize = hiddenSize;
    }

    @Override
    public NDList processInput(TranslatorContext ctx, PaddedBatch batch) {
        ctx.setAttachment(BATCH, batch);
        NDManager manager = ctx.getNDManager();
        Shape shape = new Shape(batch.size(), batch.length());
        return new NDList(
                named(manager.create(batch.ids(), shape), names.inputIds()),
                named(manager.create(batch.mask(), shape), names.inputMask()),
                named(manager.create(batch.segments(), shape), names.segmentIds()));
    }

    @Override
    public EncodedBatch processOutput(TranslatorContext ctx, NDList outputs) {
        PaddedBatch batch = (PaddedBatch) ctx.getAttachment(BATCH);
        NDArray sequence = require(outputs, names.sequenceOutput());
        NDArray pooled = require(outputs, names.pooledOutput());
        return new EncodedBatch(batch, hiddenSize, sequence.toFloatArray(), pooled.toFloatArray());
    }

    private static NDArray named(NDArray array, String name) {
        array.setName(name);
        return array;
    }

    private static NDArray require(NDList outputs, String name) {
        NDArray array = outputs.get(name);
        if (array == null) {
            throw new IllegalStateException(
                    "The encoder returned no output named '"
                            + name
                            + "'; it returned "
                            + outputs.stream().map(NDArray::getName).toList());
        }
        return array;
    }
}
