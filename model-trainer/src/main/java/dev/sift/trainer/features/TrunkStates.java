package dev.sift.trainer.features;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.finetune.TopBatch;
import dev.sift.model.tokenize.Truncation;
import dev.sift.trainer.data.Example;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Batches of cached trunk states for a fine-tuned top: each batch is padded to its own longest
 * text, as the job pads its batches, and read from the {@link TrunkCache} file when it is built, so
 * the heap holds one batch, not the corpus.
 *
 * <pre>{@code
 * extractor.prepare(examples, trunkLayers); // encodes what the cache lacks
 * try (TrunkStates states = TrunkStates.open(cacheRoot, encoder, 128, Truncation.HEAD, trunkLayers)) {
 *     TopBatch batch = states.batch(examples.subList(0, 32), labels);
 * }
 * }</pre>
 */
public final class TrunkStates implements AutoCloseable {

    private final TrunkCache cache;

    private TrunkStates(TrunkCache cache) {
        this.cache = cache;
    }

    /** Opens the cache that {@link FeatureExtractor#prepare} filled for these settings. */
    public static TrunkStates open(
            Path cacheRoot,
            EncoderBundle encoder,
            int maxSeqLen,
            Truncation truncation,
            int trunkLayers)
            throws IOException {
        return new TrunkStates(
                new TrunkCache(
                        cacheRoot,
                        encoder.contentHash(),
                        maxSeqLen,
                        truncation,
                        trunkLayers,
                        encoder.manifest().hiddenSize()));
    }

    public int hiddenSize() {
        return cache.hiddenSize();
    }

    public int trunkLayers() {
        return cache.trunkLayers();
    }

    /**
     * The token count of each example's cached states, what a batch holding it pads to at least.
     *
     * @throws IllegalStateException when an example was never encoded into the cache
     */
    public int[] lengths(List<Example> examples) {
        int[] lengths = new int[examples.size()];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = cachedLength(TrunkCache.key(examples.get(i).inputKey()), i);
        }
        return lengths;
    }

    /**
     * The states of {@code examples} as one batch, with {@code labels} (one index per example, or
     * null when only predicting).
     *
     * @throws IllegalStateException when an example was never encoded into the cache
     */
    public TopBatch batch(List<Example> examples, int[] labels) throws IOException {
        int size = examples.size();
        String[] keys = new String[size];
        int[] lengths = new int[size];
        int longest = 0;
        for (int i = 0; i < size; i++) {
            keys[i] = TrunkCache.key(examples.get(i).inputKey());
            lengths[i] = cachedLength(keys[i], i);
            longest = Math.max(longest, lengths[i]);
        }
        int h = cache.hiddenSize();
        float[] hidden = new float[size * longest * h]; // padding stays 0; the mask hides it
        for (int i = 0; i < size; i++) {
            cache.read(keys[i], hidden, i * longest * h);
        }
        return new TopBatch(size, longest, hidden, lengths, labels);
    }

    private int cachedLength(String key, int example) {
        int length = cache.length(key);
        if (length < 0) {
            throw new IllegalStateException(
                    "Trunk states of example "
                            + example
                            + " are not in "
                            + cache.file()
                            + "; run FeatureExtractor.prepare first");
        }
        return length;
    }

    @Override
    public void close() throws IOException {
        cache.close();
    }
}
