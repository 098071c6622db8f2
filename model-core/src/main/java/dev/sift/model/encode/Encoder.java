package dev.sift.model.encode;

import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.tokenize.TokenizedInput;
import java.util.List;

/** A BERT-style encoder: token sequences in, vectors out. Implementations are thread-safe. */
public interface Encoder extends AutoCloseable {

    EncoderManifest manifest();

    /** Runs one forward pass over an already padded batch. */
    EncodedBatch encode(PaddedBatch batch);

    /** Pads {@code inputs} to their own longest length and runs one forward pass. */
    default EncodedBatch encode(List<TokenizedInput> inputs) {
        return encode(PaddedBatch.of(inputs));
    }

    /** Convenience: {@code encode(inputs).vectors(pooling)}. */
    default float[][] encode(List<TokenizedInput> inputs, Pooling pooling) {
        return encode(inputs).vectors(pooling);
    }

    /** Where the forward pass runs, e.g. {@code cpu()} or {@code gpu(0)}. */
    String device();

    @Override
    void close();
}
