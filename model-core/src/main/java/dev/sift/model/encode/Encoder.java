package dev.sift.model.encode;

import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.tokenize.TokenizedInput;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** A BERT-style encoder: token sequences in, vectors out. Implementations are thread-safe. */
public interface Encoder extends AutoCloseable {

    EncoderManifest manifest();

    /** The poolings this encoder can compute ({@link EncoderManifest#availablePoolings()}). */
    default Set<Pooling> poolings() {
        return manifest().availablePoolings();
    }

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
     * the same pass: {@link #encode(PaddedBatch, Set, Set)} with one depth.
     *
     * @param poolings what to fetch from the full encoder; may be empty when {@code trunkLayers >
     *     0}
     * @param trunkLayers 0 for no trunk (then this is {@link #encode(PaddedBatch, Set)}), else 1 to
     *     the encoder's layer count ({@link EncoderManifest#transformerLayers()})
     * @throws UnsupportedOperationException from an encoder that cannot stop at a middle layer
     */
    default EncodedBatch encode(PaddedBatch batch, Set<Pooling> poolings, int trunkLayers) {
        if (trunkLayers < 0) {
            throw new IllegalArgumentException(
                    "trunkLayers is a count of layers, 0 or more, not " + trunkLayers);
        }
        return encode(batch, poolings, trunkLayers == 0 ? Set.of() : Set.of(trunkLayers));
    }

    /**
     * Like {@link #encode(PaddedBatch, Set)}, and also returns, for each of {@code trunkDepths},
     * the output of the encoder's bottom that many transformer layers ({@link
     * EncodedBatch#trunk(int)}, {@code (B, T, d)}), all from one pass: the layers run once, up to
     * the deepest thing fetched. With no poolings only the layers up to the deepest trunk run: the
     * layers above, the pooler and the signature's outputs are left out of the pass, which is what
     * makes one shared trunk cheaper than a full pass per model, and one pass for fine-tuned models
     * with different split points cheaper than one per split.
     *
     * @param poolings what to fetch from the full encoder; may be empty when {@code trunkDepths} is
     *     not
     * @param trunkDepths empty for no trunk (then this is {@link #encode(PaddedBatch, Set)}), else
     *     depths from 1 to the encoder's layer count ({@link EncoderManifest#transformerLayers()})
     * @throws UnsupportedOperationException from an encoder that cannot stop at a middle layer
     */
    default EncodedBatch encode(
            PaddedBatch batch, Set<Pooling> poolings, Set<Integer> trunkDepths) {
        if (trunkDepths.isEmpty()) {
            return encode(batch, poolings);
        }
        throw new UnsupportedOperationException(
                getClass().getSimpleName()
                        + " cannot return trunks of "
                        + new TreeSet<>(trunkDepths)
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
