package dev.sift.model.encode;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.onnxruntime.engine.OrtSymbolBlock;
import ai.djl.translate.TranslateException;
import ai.onnxruntime.OrtException;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderEngine;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.engine.OnnxRuntimeNatives;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An ONNX encoder (bge-small, all-MiniLM-L6-v2, int8 or float32) served by DJL's ONNX Runtime
 * engine on the CPU. ONNX Runtime's natives come in its Maven jar, so nothing downloads.
 *
 * <pre>{@code
 * try (Encoder encoder = OnnxEncoder.load(EncoderBundle.open(dir))) {
 *     float[][] h = encoder.encode(tokenizer.encodeAll(texts), Pooling.MEAN);
 * }
 * }</pre>
 *
 * <p>As with {@link TensorFlowEncoder} on the CPU, one pass spreads over every core through ONNX
 * Runtime's intra-op pool and concurrent callers are served one pass at a time. The session is
 * built here rather than by DJL's options so that both pool sizes are set: DJL applies its intra-op
 * option only when the inter-op one is given too.
 *
 * <p>Fine-tuned tops read trunks: the output of a middle layer, which the graph does not return.
 * They come from a copy of the graph cut at those layers ({@link OnnxGraph}), which works on graphs
 * named as Hugging Face's exports are, int8 or float32.
 */
public final class OnnxEncoder implements Encoder {

    private static final Logger LOG = LoggerFactory.getLogger(OnnxEncoder.class);

    /**
     * A graph cut to return trunks: the outputs of layers {@code depth - 1} for each depth, and the
     * last hidden state when {@code pooled}.
     */
    private record TrunkCut(SortedSet<Integer> depths, boolean pooled) {}

    /** A loaded cut and the passes run on it. */
    private record TrunkGraph(Model model, Predictors<EncodeRequest, EncodedBatch> predictors) {}

    private final EncoderManifest manifest;
    private final Path graph;
    private final int intraOpThreads;
    private final Model model;
    private final List<String> graphInputs;
    // Every pass, on the whole graph or a cut, holds this: on the CPU each already uses every core.
    private final Object serial = new Object();
    private final Predictors<EncodeRequest, EncodedBatch> predictors;
    private final Map<TrunkCut, TrunkGraph> cuts = new HashMap<>();
    private boolean closed;

    private OnnxEncoder(
            EncoderManifest manifest,
            Path graph,
            int intraOpThreads,
            Model model,
            List<String> graphInputs) {
        this.manifest = manifest;
        this.graph = graph;
        this.intraOpThreads = intraOpThreads;
        this.model = model;
        this.graphInputs = graphInputs;
        this.predictors = predictors(model);
    }

    private Predictors<EncodeRequest, EncodedBatch> predictors(Model loaded) {
        OnnxTranslator translator =
                new OnnxTranslator(manifest.tensors(), manifest.hiddenSize(), graphInputs);
        return new Predictors<>(() -> loaded.newPredictor(translator), false, serial);
    }

    /** Loads the bundle's graph with an intra-op pool as large as the machine's cores. */
    public static OnnxEncoder load(EncoderBundle bundle) throws IOException {
        return load(bundle, Runtime.getRuntime().availableProcessors());
    }

    /**
     * Loads the bundle's graph, every optimization on, passes spread over {@code intraOpThreads}
     * threads. The bundle's files are trusted as they are; verify first.
     */
    public static OnnxEncoder load(EncoderBundle bundle, int intraOpThreads) throws IOException {
        EncoderManifest manifest = bundle.manifest();
        if (manifest.runtime() != EncoderEngine.ONNX_RUNTIME) {
            throw new IllegalArgumentException(
                    "Encoder "
                            + manifest.name()
                            + " runs on "
                            + manifest.runtime().id()
                            + ", not on ONNX Runtime");
        }
        if (intraOpThreads < 1) {
            throw new IllegalArgumentException(
                    "intraOpThreads must be at least 1, not " + intraOpThreads);
        }
        Path graph = bundle.graphFile();
        OnnxRuntimeNatives.prepare();
        Model model = Model.newInstance(manifest.name(), Device.cpu(), OnnxRuntimeNatives.ENGINE);
        try {
            model.load(graph.getParent(), fileStem(graph), sessionOptions(intraOpThreads));
            List<String> inputs =
                    new ArrayList<>(((OrtSymbolBlock) model.getBlock()).describeInput().keys());
            LOG.info(
                    "Loaded encoder {} ({}, {}) on ONNX Runtime, {} intra-op threads",
                    manifest.name(),
                    manifest.contentHash().substring(0, 12),
                    manifest.weightPrecision(),
                    intraOpThreads);
            return new OnnxEncoder(manifest, graph, intraOpThreads, model, List.copyOf(inputs));
        } catch (OrtException | MalformedModelException | RuntimeException e) {
            model.close();
            throw new IOException("Cannot load the ONNX graph " + graph + ": " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> sessionOptions(int intraOpThreads) throws OrtException {
        return Map.of("sessionOptions", OnnxRuntimeNatives.sessionOptions(intraOpThreads));
    }

    private static String fileStem(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(".onnx") ? name.substring(0, name.length() - 5) : name;
    }

    @Override
    public EncoderManifest manifest() {
        return manifest;
    }

    @Override
    public EncodedBatch encode(PaddedBatch batch, Set<Pooling> poolings) {
        if (poolings.contains(Pooling.POOLER)) {
            throw new IllegalArgumentException(
                    "Encoder "
                            + manifest.name()
                            + " has no pooler output; use cls or mean pooling");
        }
        Encoders.requireFits(batch, manifest);
        try {
            return predictors.predict(new EncodeRequest(batch, poolings));
        } catch (TranslateException e) {
            throw new IllegalStateException("Encoder forward pass failed: " + e.getMessage(), e);
        }
    }

    /**
     * Trunks come from the graph cut to them ({@link OnnxGraph#cutTo}), loaded once per set of
     * depths and kept: ONNX Runtime runs every node of a graph whatever is fetched, so a trunk-only
     * pass on the whole graph would also run the layers the fine-tuned top replaces. A pass that
     * also pools gets the trunks and the last hidden state from one cut that keeps both, so its
     * layers run once. Each cut holds its own copy of the weights it keeps.
     */
    @Override
    public EncodedBatch encode(PaddedBatch batch, Set<Pooling> poolings, Set<Integer> trunkDepths) {
        if (trunkDepths.isEmpty()) {
            return encode(batch, poolings);
        }
        if (poolings.contains(Pooling.POOLER)) {
            throw new IllegalArgumentException(
                    "Encoder "
                            + manifest.name()
                            + " has no pooler output; use cls or mean pooling");
        }
        for (int depth : trunkDepths) {
            Encoders.requireTrunkDepth(depth, manifest);
        }
        Encoders.requireFits(batch, manifest);
        EncodeRequest request = new EncodeRequest(batch, poolings, new TreeSet<>(trunkDepths));
        TrunkCut cut = new TrunkCut(request.trunkDepths(), !poolings.isEmpty());
        try {
            return cut(cut).predictors().predict(request);
        } catch (TranslateException e) {
            throw new IllegalStateException("Encoder trunk pass failed: " + e.getMessage(), e);
        }
    }

    private TrunkGraph cut(TrunkCut cut) {
        synchronized (cuts) {
            if (closed) {
                throw new IllegalStateException("The encoder is closed; acquire it again");
            }
            TrunkGraph loaded = cuts.get(cut);
            if (loaded == null) {
                loaded = loadCut(cut);
                cuts.put(cut, loaded);
            }
            return loaded;
        }
    }

    private TrunkGraph loadCut(TrunkCut cut) {
        List<String> outputs = new ArrayList<>();
        for (int depth : cut.depths()) {
            outputs.add(OnnxGraph.layerOutput(depth - 1));
        }
        if (cut.pooled()) {
            outputs.add(manifest.tensors().sequenceOutput());
        }
        Model trunk =
                Model.newInstance(
                        manifest.name() + "-trunk" + cut.depths(),
                        Device.cpu(),
                        OnnxRuntimeNatives.ENGINE);
        try {
            OnnxGraph whole = OnnxGraph.read(graph);
            for (int depth : cut.depths()) {
                if (!whole.producesTensor(OnnxGraph.layerOutput(depth - 1))) {
                    throw new UnsupportedOperationException(
                            "Encoder "
                                    + manifest.name()
                                    + "'s graph has no tensor "
                                    + OnnxGraph.layerOutput(depth - 1)
                                    + ": trunks need a graph named as Hugging Face's exports"
                                    + " are");
                }
            }
            byte[] bytes = whole.cutTo(outputs);
            trunk.load(new ByteArrayInputStream(bytes), sessionOptions(intraOpThreads));
            LOG.info(
                    "Loaded encoder {}'s trunk graph for depths {} ({} MB)",
                    manifest.name(),
                    cut.depths(),
                    bytes.length >> 20);
            return new TrunkGraph(trunk, predictors(trunk));
        } catch (IOException | OrtException | MalformedModelException e) {
            trunk.close();
            throw new IllegalStateException(
                    "Cannot cut encoder "
                            + manifest.name()
                            + "'s graph to trunks "
                            + cut.depths()
                            + ": "
                            + e.getMessage(),
                    e);
        } catch (RuntimeException e) {
            trunk.close();
            throw e;
        }
    }

    @Override
    public String device() {
        return Device.cpu().toString();
    }

    @Override
    public void close() {
        predictors.close(); // waits for passes in flight
        synchronized (cuts) {
            closed = true;
            for (TrunkGraph cut : cuts.values()) {
                cut.predictors().close();
                cut.model().close();
            }
            cuts.clear();
        }
        model.close();
    }
}
