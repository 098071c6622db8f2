package dev.sift.trainer.features;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.encode.EncodedBatch;
import dev.sift.model.encode.Encoder;
import dev.sift.model.encode.Pooling;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.model.tokenize.TokenizedInput;
import dev.sift.trainer.data.Example;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Encoder features for training and evaluation, computed by model-core exactly as the streaming job
 * computes them. Inputs missing from the cache are sorted by token length and encoded in batches
 * padded to their own longest sequence; one pass fills the cache of every pooling. The encoder is
 * loaded only when something is missing, so a repeated run on the same data never starts it.
 */
public final class FeatureExtractor implements AutoCloseable {

    private final EncoderBundle bundle;
    private final int maxSeqLen;
    private final int batchSize;
    private final Path cacheRoot;
    private final PrintStream progress;
    private final BertTokenizer tokenizer;
    private final Map<Pooling, FeatureCache> caches = new EnumMap<>(Pooling.class);
    private Encoder encoder;
    private int encodedInputs;

    public FeatureExtractor(
            EncoderBundle bundle,
            int maxSeqLen,
            int batchSize,
            Path cacheRoot,
            PrintStream progress)
            throws IOException {
        if (maxSeqLen > bundle.manifest().maxSeqLen()) {
            throw new IllegalArgumentException(
                    "max length "
                            + maxSeqLen
                            + " exceeds the encoder's "
                            + bundle.manifest().maxSeqLen());
        }
        this.bundle = bundle;
        this.maxSeqLen = maxSeqLen;
        this.batchSize = batchSize;
        this.cacheRoot = cacheRoot;
        this.progress = progress;
        this.tokenizer = BertTokenizer.load(bundle.tokenizerFile(), maxSeqLen);
    }

    /** Vectors of {@code examples}, in their order, under {@code pooling}. */
    public float[][] vectors(List<Example> examples, Pooling pooling) throws IOException {
        FeatureCache cache = cache(pooling);
        String[] keys = new String[examples.size()];
        Map<String, Example> missing = new LinkedHashMap<>();
        for (int i = 0; i < keys.length; i++) {
            keys[i] = FeatureCache.key(examples.get(i).inputKey());
            if (cache.get(keys[i]) == null) {
                missing.put(keys[i], examples.get(i));
            }
        }
        if (!missing.isEmpty()) {
            encode(missing);
        }
        float[][] vectors = new float[keys.length][];
        for (int i = 0; i < keys.length; i++) {
            vectors[i] = cache.get(keys[i]);
        }
        return vectors;
    }

    /** How many inputs this extractor has run through the encoder. */
    public int encodedInputs() {
        return encodedInputs;
    }

    public TokenizedInput tokenize(Example example) {
        return example.isPair()
                ? tokenizer.encodePair(example.text(), example.textB())
                : tokenizer.encode(example.text());
    }

    private void encode(Map<String, Example> missing) throws IOException {
        record Item(String key, TokenizedInput input) {}
        List<Item> items = new ArrayList<>(missing.size());
        missing.forEach((key, example) -> items.add(new Item(key, tokenize(example))));
        // Similar lengths side by side: each batch pads to little more than its own inputs.
        items.sort(Comparator.comparingInt(item -> item.input().length()));

        if (encoder == null) {
            encoder = TensorFlowEncoder.load(bundle.verify());
        }
        Progress bar = new Progress(progress, "encoding", items.size());
        bar.update(0);
        for (int from = 0; from < items.size(); from += batchSize) {
            List<Item> batch = items.subList(from, Math.min(items.size(), from + batchSize));
            // Every pooling's cache is filled from this one pass, so it fetches all of them.
            EncodedBatch encoded =
                    encoder.encode(
                            batch.stream().map(Item::input).toList(), EnumSet.allOf(Pooling.class));
            for (Pooling pooling : Pooling.values()) {
                Map<String, float[]> entries = new LinkedHashMap<>();
                for (int b = 0; b < batch.size(); b++) {
                    entries.put(batch.get(b).key(), encoded.vector(b, pooling));
                }
                cache(pooling).putAll(entries);
            }
            encodedInputs += batch.size();
            bar.update(from + batch.size());
        }
    }

    private FeatureCache cache(Pooling pooling) throws IOException {
        FeatureCache cache = caches.get(pooling);
        if (cache == null) {
            cache =
                    new FeatureCache(
                            cacheRoot,
                            bundle.contentHash(),
                            maxSeqLen,
                            pooling,
                            bundle.manifest().hiddenSize());
            caches.put(pooling, cache);
        }
        return cache;
    }

    @Override
    public void close() {
        tokenizer.close();
        if (encoder != null) {
            encoder.close();
        }
    }
}
