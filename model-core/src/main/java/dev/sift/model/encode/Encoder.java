package dev.sift.model.encode;

import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.tokenize.TokenizedInput;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** A BERT-style encoder: token sequences in, vectors out. Implementations are thread-safe. */
public interface Encoder extends AutoCloseable {

    EncoderManifest manifest();

    /**
     * Runs one forward pass over an already padded batch and fetches what {@code poolings} read,
     * nothing more: the caller names every pooling its heads use, e.g. {@code
     * EnumSet.of(Pooling.CLS)}, and the {@code (B, T, d)} sequence output is copied out of the
     * engine only for {@link Pooling#MEAN}.
     */
    EncodedBatch encode(PaddedBatch batch, Set<Pooling> poolings);

    /**
     * Like {@link #encode(PaddedBatch, Set)}, and also returns the output of the encoder's bottom
     * {@code trunkLayers} transformer layers ({@link EncodedBatch#trunk()}, {@code (B, T, d)}), in
     * the same pass. With no poolings only those layers run: the layers above, the pooler and the
     * signature's outputs are left out of the pass, which is what makes one shared trunk cheaper
     * than a full pass per model.
     *
     * @param poolings what to fetch from the full encoder; may be empty when {@code trunkLayers >
     *     0}
     * @param trunkLayers 0 for no trunk (then this is {@link #encode(PaddedBatch, Set)}), else 1 to
     *     the encoder's layer count ({@link EncoderManifest#transformerLayers()})
     * @throws UnsupportedOperationException from an encoder that cannot stop at a middle layer
     */
    default EncodedBatch encode(PaddedBatch batch, Set<Pooling> poolings, int trunkLayers) {
        if (trunkLayers == 0) {
            return encode(batch, poolings);
        }
        throw new UnsupportedOperationException(
                getClass().getSimpleName()
                        + " cannot return a trunk of "
                        + trunkLayers
                        + " layers");
    }

    /** Pads {@code inputs} to their own longest length and runs one forward pass. */
    default EncodedBatch encode(List<TokenizedInput> inputs, Set<Pooling> poolings) {
        return encode(PaddedBatch.of(inputs), poolings);
    }

    /** Convenience: {@code encode(inputs, EnumSet.of(pooling)).vectors(pooling)}. */
    default float[][] encode(List<TokenizedInput> inputs, Pooling pooling) {
        return encode(inputs, EnumSet.of(pooling)).vectors(pooling);
    }

    /** Where the forward pass runs, e.g. {@code cpu()} or {@code gpu(0)}. */
    String device();

    @Override
    void close();
}
