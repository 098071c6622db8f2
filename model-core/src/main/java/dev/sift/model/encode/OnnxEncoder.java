package dev.sift.model.encode;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.onnxruntime.engine.OrtSymbolBlock;
import ai.djl.translate.TranslateException;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderEngine;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.engine.OnnxRuntimeNatives;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 */
public final class OnnxEncoder implements Encoder {

    private static final Logger LOG = LoggerFactory.getLogger(OnnxEncoder.class);

    private final EncoderManifest manifest;
    private final Model model;
    private final Predictors<EncodeRequest, EncodedBatch> predictors;

    private OnnxEncoder(EncoderManifest manifest, Model model, List<String> graphInputs) {
        this.manifest = manifest;
        this.model = model;
        OnnxTranslator translator =
                new OnnxTranslator(manifest.tensors(), manifest.hiddenSize(), graphInputs);
        this.predictors = new Predictors<>(() -> model.newPredictor(translator), false);
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
            OrtSession.SessionOptions options = new OrtSession.SessionOptions();
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.setIntraOpNumThreads(intraOpThreads);
            options.setInterOpNumThreads(1);
            model.load(graph.getParent(), fileStem(graph), Map.of("sessionOptions", options));
            List<String> inputs =
                    new ArrayList<>(((OrtSymbolBlock) model.getBlock()).describeInput().keys());
            LOG.info(
                    "Loaded encoder {} ({}, {}) on ONNX Runtime, {} intra-op threads",
                    manifest.name(),
                    manifest.contentHash().substring(0, 12),
                    manifest.weightPrecision(),
                    intraOpThreads);
            return new OnnxEncoder(manifest, model, List.copyOf(inputs));
        } catch (OrtException | MalformedModelException | RuntimeException e) {
            model.close();
            throw new IOException("Cannot load the ONNX graph " + graph + ": " + e.getMessage(), e);
        }
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

    @Override
    public String device() {
        return Device.cpu().toString();
    }

    @Override
    public void close() {
        predictors.close(); // waits for passes in flight
        model.close();
    }
}
