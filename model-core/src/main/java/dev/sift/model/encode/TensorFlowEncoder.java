package dev.sift.model.encode;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.engine.Engine;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.tensorflow.engine.TfSymbolBlock;
import ai.djl.tensorflow.engine.javacpp.JavacppUtils;
import ai.djl.translate.TranslateException;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.engine.TensorFlowNatives;
import java.io.IOException;
import java.util.Base64;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.proto.ConfigProto;

/**
 * A BERT SavedModel served by DJL's TensorFlow engine, on the device the caller names or, by
 * default, on the first GPU when TensorFlow sees one and on the CPU otherwise.
 *
 * <pre>{@code
 * try (Encoder encoder = TensorFlowEncoder.load(EncoderBundle.open(dir))) {
 *     float[][] h = encoder.encode(tokenizer.encodeAll(texts), Pooling.CLS);
 *     EncodedBatch both = encoder.encode(inputs, EnumSet.of(Pooling.CLS, Pooling.MEAN));
 * }
 * }</pre>
 *
 * <p>On the CPU one forward pass already spreads over every core (TensorFlow's intra-op pool), so
 * concurrent callers are served one batch at a time rather than contending; on a GPU each calling
 * thread runs its passes on a predictor of its own, concurrently (see {@link Predictors}).
 */
public final class TensorFlowEncoder implements Encoder {

    private static final String ENGINE = "TensorFlow";
    private static final Logger LOG = LoggerFactory.getLogger(TensorFlowEncoder.class);

    private final EncoderManifest manifest;
    private final ZooModel<EncodeRequest, EncodedBatch> model;
    private final Predictors<EncodeRequest, EncodedBatch> predictors;
    private final Device device;
    private final TrunkRunner trunk;

    private TensorFlowEncoder(
            EncoderManifest manifest, ZooModel<EncodeRequest, EncodedBatch> model, Device device) {
        this.manifest = manifest;
        this.model = model;
        boolean concurrent = allowsConcurrentPasses(device);
        // On the CPU a pass already uses every core: predictor and trunk passes share one lock.
        Object serial = new Object();
        this.predictors = new Predictors<>(model::newPredictor, concurrent, serial);
        this.device = device;
        // Trunk passes run on DJL's own session, by op name: the weights are loaded once.
        this.trunk =
                new TrunkRunner(
                        ((TfSymbolBlock) model.getBlock()).getSavedModelBundle(),
                        manifest,
                        concurrent,
                        serial);
    }

    /** Loads the bundle's SavedModel. The bundle's files are trusted as they are; verify first. */
    public static TensorFlowEncoder load(EncoderBundle bundle) throws IOException {
        return load(bundle, null);
    }

    /**
     * Loads the bundle's SavedModel into a TensorFlow session configured with {@code sessionConfig}
     * (thread pools, Grappler rewrites such as oneDNN bfloat16 mixed precision), or with DJL's
     * default when null. DJL's default is {@link JavacppUtils#getSessionConfig()}; start from it
     * ({@code toBuilder()}) to keep its GPU settings.
     */
    public static TensorFlowEncoder load(EncoderBundle bundle, ConfigProto sessionConfig)
            throws IOException {
        return load(bundle, defaultDevice(), sessionConfig);
    }

    /**
     * Loads the bundle's SavedModel onto {@code device} (a GPU TensorFlow sees, or the CPU); {@code
     * sessionConfig} as in {@link #load(EncoderBundle, ConfigProto)}.
     */
    public static TensorFlowEncoder load(
            EncoderBundle bundle, Device device, ConfigProto sessionConfig) throws IOException {
        TensorFlowNatives.prepare();
        EncoderManifest manifest = bundle.manifest();
        Criteria.Builder<EncodeRequest, EncodedBatch> builder =
                Criteria.builder()
                        .setTypes(EncodeRequest.class, EncodedBatch.class)
                        .optModelPath(bundle.savedModelDir())
                        .optEngine(ENGINE)
                        .optDevice(device)
                        .optOption("Tags", String.join(",", manifest.tags()))
                        .optOption("SignatureDefKey", manifest.signature())
                        .optTranslator(
                                new BertTranslator(manifest.tensors(), manifest.hiddenSize()));
        if (sessionConfig != null) {
            // DJL's TfModel reads a ConfigProto option, as an object or Base64 of its bytes.
            builder.optOption(
                    "ConfigProto", Base64.getEncoder().encodeToString(sessionConfig.toByteArray()));
        }
        Criteria<EncodeRequest, EncodedBatch> criteria = builder.build();
        try {
            ZooModel<EncodeRequest, EncodedBatch> model = criteria.loadModel();
            LOG.info(
                    "Loaded encoder {} ({}) on {}",
                    manifest.name(),
                    manifest.contentHash().substring(0, 12),
                    device);
            return new TensorFlowEncoder(manifest, model, device);
        } catch (ModelNotFoundException | MalformedModelException e) {
            throw new IOException(
                    "Cannot load the SavedModel in "
                            + bundle.savedModelDir()
                            + ": "
                            + e.getMessage(),
                    e);
        }
    }

    /** GPU 0 when TensorFlow sees a GPU, else the CPU. Prepares the natives first. */
    public static Device defaultDevice() {
        return visibleGpuCount() > 0 ? Device.gpu() : Device.cpu();
    }

    /**
     * How many GPUs TensorFlow sees: 0 with the CPU build of its natives, or without CUDA. Prepares
     * the natives first.
     */
    public static int visibleGpuCount() {
        TensorFlowNatives.prepare();
        return Engine.getEngine(ENGINE).getGpuCount();
    }

    /** Whether passes may run concurrently on {@code device}: on a GPU, not on the CPU. */
    static boolean allowsConcurrentPasses(Device device) {
        return device.isGpu();
    }

    @Override
    public EncoderManifest manifest() {
        return manifest;
    }

    @Override
    public EncodedBatch encode(PaddedBatch batch, Set<Pooling> poolings) {
        EncodeRequest request = new EncodeRequest(batch, poolings);
        Encoders.requireFits(batch, manifest);
        try {
            return predictors.predict(request);
        } catch (TranslateException e) {
            throw new IllegalStateException("Encoder forward pass failed: " + e.getMessage(), e);
        }
    }

    @Override
    public EncodedBatch encode(PaddedBatch batch, Set<Pooling> poolings, Set<Integer> trunkDepths) {
        if (trunkDepths.isEmpty()) {
            return encode(batch, poolings);
        }
        EncodeRequest request = new EncodeRequest(batch, poolings, new TreeSet<>(trunkDepths));
        Encoders.requireFits(batch, manifest);
        return trunk.run(request);
    }

    @Override
    public String device() {
        return device.toString();
    }

    @Override
    public void close() {
        trunk.close(); // waits for trunk passes in flight
        predictors.close(); // waits for passes in flight
        model.close();
    }
}
