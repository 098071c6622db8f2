package dev.sift.trainer.features;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.encode.EncodedBatch;
import dev.sift.model.encode.Encoder;
import dev.sift.model.encode.Encoders;
import dev.sift.model.encode.PaddedBatch;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.model.tokenize.TokenizedInput;
import dev.sift.model.tokenize.Truncation;
import dev.sift.trainer.data.Example;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Encoder features for training and evaluation, computed by model-core exactly as the streaming job
 * computes them. Inputs missing from the cache are sorted by token length and encoded in batches
 * padded to their own longest sequence; one pass fills the cache of every pooling. The encoder is
 * loaded only when something is missing, so a repeated run on the same data never starts it.
 *
 * <p>For fine-tuning, {@link #prepare} also caches the trunk's hidden states ({@link TrunkCache}):
 * a text missing both its vectors and its trunk states gets both from one encoder pass; a text
 * missing only its trunk states runs only the trunk's layers.
 */
public final class FeatureExtractor implements AutoCloseable {

    private final EncoderBundle bundle;
    private final int maxSeqLen;
    private final Truncation truncation;
    private final int batchSize;
    private final Path cacheRoot;
    private final PrintStream progress;
    private final BertTokenizer tokenizer;
    private final Map<Pooling, FeatureCache> caches = new EnumMap<>(Pooling.class);
    private final Map<Integer, TrunkCache> trunkCaches = new HashMap<>();
    private Encoder encoder;
    private int encodedInputs;

    /** An extractor that reads the head of long texts. */
    public FeatureExtractor(
            EncoderBundle bundle,
            int maxSeqLen,
            int batchSize,
            Path cacheRoot,
            PrintStream progress)
            throws IOException {
        this(bundle, maxSeqLen, Truncation.HEAD, batchSize, cacheRoot, progress);
    }

    public FeatureExtractor(
            EncoderBundle bundle,
            int maxSeqLen,
            Truncation truncation,
            int batchSize,
            Path cacheRoot,
            PrintStream progress)
            throws IOException {
        if (maxSeqLen > bundle.manifest().maxSeqLen()) {
            throw new IllegalArgumentException(
                    "max length "
                            + maxSeqLen
                            + " exceeds the encoder's "
                            + bundle.manifest().maxSeqLen()
                            + (bundle.manifest().name().startsWith("bert-base")
                                    ? " (an import made before import-bert read BERT-base's"
                                            + " position table says 128: run import-bert again"
                                            + " to raise it to 512)"
                                    : ""));
        }
        this.bundle = bundle;
        this.maxSeqLen = maxSeqLen;
        this.truncation = truncation;
        this.batchSize = batchSize;
        this.cacheRoot = cacheRoot;
        this.progress = progress;
        this.tokenizer = BertTokenizer.load(bundle.tokenizerFile(), maxSeqLen, truncation);
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

    /**
     * Makes sure every example's vectors (every pooling) and, when {@code trunkLayers > 0}, its
     * trunk states after the encoder's first {@code trunkLayers} layers are cached, encoding what
     * is missing.
     */
    public void prepare(List<Example> examples, int trunkLayers) throws IOException {
        Map<String, Example> needVectors = new LinkedHashMap<>();
        Map<String, Example> needTrunk = new LinkedHashMap<>();
        TrunkCache trunk = trunkLayers > 0 ? trunkCache(trunkLayers) : null;
        for (Example example : examples) {
            String key = FeatureCache.key(example.inputKey());
            boolean vectors = cache(Pooling.values()[0]).get(key) == null;
            if (vectors) {
                needVectors.put(key, example);
            }
            if (trunk != null && !trunk.contains(key)) {
                needTrunk.put(key, example);
            }
        }
        if (!needVectors.isEmpty() || !needTrunk.isEmpty()) {
            encode(needVectors, needTrunk, trunkLayers);
        }
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
        encode(missing, Map.of(), 0);
    }

    /**
     * One pass per text: those in {@code needVectors} fetch every pooling (and their trunk states
     * too when in {@code needTrunk}); those only in {@code needTrunk} fetch the trunk alone, so
     * TensorFlow runs only its layers.
     */
    private void encode(
            Map<String, Example> needVectors, Map<String, Example> needTrunk, int trunkLayers)
            throws IOException {
        record Item(String key, TokenizedInput input, boolean vectors, boolean trunk) {}
        List<Item> items = new ArrayList<>(needVectors.size() + needTrunk.size());
        needVectors.forEach(
                (key, example) ->
                        items.add(
                                new Item(
                                        key, tokenize(example), true, needTrunk.containsKey(key))));
        needTrunk.forEach(
                (key, example) -> {
                    if (!needVectors.containsKey(key)) {
                        items.add(new Item(key, tokenize(example), false, true));
                    }
                });
        // Batches of one kind of fetch; in each, similar lengths side by side, so a batch pads
        // to little more than its own inputs.
        items.sort(
                Comparator.comparing((Item item) -> !item.vectors())
                        .thenComparing(item -> !item.trunk())
                        .thenComparingInt(item -> item.input().length()));

        if (encoder == null) {
            encoder = Encoders.load(bundle.verify());
        }
        Progress bar = new Progress(progress, "encoding", items.size());
        bar.update(0);
        int from = 0;
        while (from < items.size()) {
            Item first = items.get(from);
            int to = from + 1;
            while (to < items.size()
                    && to - from < batchSize
                    && items.get(to).vectors() == first.vectors()
                    && items.get(to).trunk() == first.trunk()) {
                to++;
            }
            List<Item> batch = items.subList(from, to);
            PaddedBatch padded = PaddedBatch.of(batch.stream().map(Item::input).toList());
            // Every pooling's cache is filled from this one pass, so it fetches all of them.
            EncodedBatch encoded =
                    encoder.encode(
                            padded,
                            first.vectors() ? encoder.poolings() : EnumSet.noneOf(Pooling.class),
                            first.trunk() ? trunkLayers : 0);
            if (first.vectors()) {
                for (Pooling pooling : encoder.poolings()) {
                    Map<String, float[]> entries = new LinkedHashMap<>();
                    for (int b = 0; b < batch.size(); b++) {
                        entries.put(batch.get(b).key(), encoded.vector(b, pooling));
                    }
                    cache(pooling).putAll(entries);
                }
            }
            if (first.trunk()) {
                TrunkCache trunk = trunkCache(trunkLayers);
                float[] states = encoded.trunk();
                int rowSize = padded.length() * trunk.hiddenSize();
                for (int b = 0; b < batch.size(); b++) {
                    trunk.put(batch.get(b).key(), states, b * rowSize, padded.length(b));
                }
            }
            encodedInputs += batch.size();
            bar.update(to);
            from = to;
        }
    }

    private TrunkCache trunkCache(int trunkLayers) throws IOException {
        TrunkCache cache = trunkCaches.get(trunkLayers);
        if (cache == null) {
            cache =
                    new TrunkCache(
                            cacheRoot,
                            bundle.contentHash(),
                            maxSeqLen,
                            truncation,
                            trunkLayers,
                            bundle.manifest().hiddenSize());
            trunkCaches.put(trunkLayers, cache);
        }
        return cache;
    }

    private FeatureCache cache(Pooling pooling) throws IOException {
        FeatureCache cache = caches.get(pooling);
        if (cache == null) {
            cache =
                    new FeatureCache(
                            cacheRoot,
                            bundle.contentHash(),
                            maxSeqLen,
                            truncation,
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
        for (TrunkCache cache : trunkCaches.values()) {
            try {
                cache.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
