package dev.sift.model.testing;

import dev.sift.model.bundle.Directories;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.TensorNames;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.tokenize.TokenizerJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A small, deterministic, BERT-shaped encoder built by our own code: a real TensorFlow SavedModel
 * with BERT's serving signature (int32 {@code input_ids}, {@code input_mask}, {@code segment_ids};
 * {@code pooled_output} {@code (B, d)} and {@code sequence_output} {@code (B, T, d)}), a WordPiece
 * vocabulary and the same {@code tokenizer.json} generator, so tests exercise every code path of
 * the real encoder in milliseconds instead of seconds.
 *
 * <p>Each position mixes its own token, segment and position embeddings with a masked mean over the
 * sequence: {@code seq_t = tanh(x_t·W1 + mean_{mask}(x)·W2)}, {@code pooled = tanh(seq_0·Wp + bp)}.
 * The masked mean makes every output depend on the attention mask, so a padding bug changes vectors
 * here just as it would in BERT.
 */
public final class TinyBertEncoder {

    public static final int HIDDEN_SIZE = 32;
    public static final int MAX_SEQ_LEN = 64;
    private static final long SEED = 20261124L;

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
                    new EncoderManifest(
                            EncoderManifest.KIND,
                            EncoderManifest.FORMAT_VERSION,
                            "tiny-bert-test",
                            "built by " + TinyBertEncoder.class.getName(),
                            "saved_model",
                            List.of("serve"),
                            "serving_default",
                            TensorNames.bertDefaults(),
                            HIDDEN_SIZE,
                            MAX_SEQ_LEN,
                            true,
                            "tokenizer.json",
                            null,
                            null,
                            Instant.EPOCH.toString());
            return EncoderBundle.install(staging, draft, encodersRoot);
        } finally {
            Directories.deleteRecursively(staging);
        }
    }

    private static void exportSavedModel(Path dir, int vocabSize) throws IOException {
        Random random = new Random(SEED);
        int d = HIDDEN_SIZE;
        try (Graph graph = new Graph()) {
            Ops tf = Ops.create(graph);
            var ids = tf.withName("input_ids").placeholder(TInt32.class, shape());
            var mask = tf.withName("input_mask").placeholder(TInt32.class, shape());
            var segments = tf.withName("segment_ids").placeholder(TInt32.class, shape());

            Operand<TFloat32> tokens = tf.variable(tf.constant(gaussian(random, vocabSize, d)));
            Operand<TFloat32> segmentTable = tf.variable(tf.constant(gaussian(random, 2, d)));
            Operand<TFloat32> positionTable =
                    tf.variable(tf.constant(gaussian(random, MAX_SEQ_LEN, d)));
            Operand<TFloat32> w1 = tf.variable(tf.constant(gaussian(random, d, d)));
            Operand<TFloat32> w2 = tf.variable(tf.constant(gaussian(random, d, d)));
            Operand<TFloat32> wp = tf.variable(tf.constant(gaussian(random, d, d)));
            Operand<TFloat32> bp = tf.variable(tf.constant(gaussian(random, 1, d)[0]));

            // Positions count real tokens: 0, 1, ... along the row (padding repeats the last).
            Operand<TInt32> positions =
                    tf.math.sub(tf.math.cumsum(mask, tf.constant(1)), tf.constant(1));
            Operand<TFloat32> x =
                    tf.math.add(
                            tf.math.add(
                                    tf.gather(tokens, ids, tf.constant(0)),
                                    tf.gather(segmentTable, segments, tf.constant(0))),
                            tf.gather(positionTable, positions, tf.constant(0)));

            Operand<TFloat32> m =
                    tf.expandDims(tf.dtypes.cast(mask, TFloat32.class), tf.constant(-1));
            Operand<TFloat32> context =
                    tf.math.div(
                            tf.sum(tf.math.mul(x, m), tf.constant(1)),
                            tf.sum(m, tf.constant(1))); // (B, d)

            Operand<TFloat32> local =
                    tf.reshape(
                            tf.linalg.matMul(tf.reshape(x, tf.constant(new int[] {-1, d})), w1),
                            tf.shape(x));
            Operand<TFloat32> global = tf.expandDims(tf.linalg.matMul(context, w2), tf.constant(1));
            Operand<TFloat32> sequence =
                    tf.withName("sequence_output").math.tanh(tf.math.add(local, global));
            Operand<TFloat32> first =
                    tf.stridedSlice(sequence, Indices.all(), Indices.at(0), Indices.all());
            Operand<TFloat32> pooled =
                    tf.withName("pooled_output")
                            .math
                            .tanh(tf.math.add(tf.linalg.matMul(first, wp), bp));

            Signature signature =
                    Signature.builder()
                            .key("serving_default")
                            .input("input_ids", ids)
                            .input("input_mask", mask)
                            .input("segment_ids", segments)
                            .output("pooled_output", pooled)
                            .output("sequence_output", sequence)
                            .build();
            try (Session session = new Session(graph)) {
                session.initialize();
                SavedModelBundle.exporter(dir.toString())
                        .withTags("serve")
                        .withFunction(SessionFunction.create(signature, session))
                        .export();
            }
        }
    }

    private static Placeholder.Options shape() {
        return Placeholder.shape(Shape.of(-1, -1));
    }

    private static float[][] gaussian(Random random, int rows, int columns) {
        float[][] values = new float[rows][columns];
        for (float[] row : values) {
            for (int j = 0; j < columns; j++) {
                row[j] = (float) (random.nextGaussian() * 0.5);
            }
        }
        return values;
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
