package dev.sift.serving.models;

import ai.djl.Device;
import dev.sift.model.SharedByKey;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderEngine;
import dev.sift.model.encode.EncoderPrecision;
import dev.sift.model.encode.OnnxGraph;
import dev.sift.model.encode.SharedEncoders;
import dev.sift.model.encode.TensorFlowEncoder;
import dev.sift.model.finetune.OnnxTop;
import dev.sift.model.finetune.SharedTops;
import dev.sift.model.finetune.Top;
import dev.sift.model.finetune.TopModel;
import dev.sift.model.finetune.TopWeights;
import dev.sift.model.ngram.NgramClassifier;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.RegistryReader;
import dev.sift.model.tokenize.BertTokenizer;
import java.io.IOException;

/**
 * Opens and loads the versions the job was told to serve. The job's configured registry is the
 * source of truth: an announcement names a version and the SHA-256 of its manifest, and the bundle
 * found in the registry must match it (every file hashed, shapes checked). The announcement's
 * {@code bundleUri} must name that version's folder in this registry (see {@link
 * Registries#requireInRegistry}).
 */
public final class ModelLoader {

    /**
     * The n-gram models of blended versions, one per version per JVM as the tops are: 32 MB of heap
     * for the SpamAssassin model, which every slot of a TaskManager would otherwise hold a copy of.
     * They hold no native memory: the last lease's close only drops the reference.
     */
    private static final SharedByKey<SharedTops.Identity, NgramClassifier> NGRAMS =
            new SharedByKey<>((identity, ngrams) -> {});

    private final RegistryReader registry;
    private final Device device;
    private final EncoderPrecision precision;

    /** Loads encoders on {@code TensorFlowEncoder.defaultDevice()}. */
    public ModelLoader(RegistryReader registry) {
        this(registry, null);
    }

    /**
     * @param device where encoders load (see {@code DeviceChoice}); null for the default device
     */
    public ModelLoader(RegistryReader registry, Device device) {
        this(registry, device, EncoderPrecision.FLOAT32);
    }

    /** As above, with encoder passes in {@code precision}. */
    public ModelLoader(RegistryReader registry, Device device, EncoderPrecision precision) {
        this.registry = registry;
        this.device = device;
        this.precision = precision;
    }

    public RegistryReader registry() {
        return registry;
    }

    /** Fast checks (manifest hash, file hashes, shapes); no encoder is loaded. */
    public ModelBundle verify(String name, long version, String manifestSha256) throws IOException {
        return registry.open(name, version).requireManifestSha256(manifestSha256);
    }

    /**
     * Slow part: acquires the shared encoder (verifying and loading it the first time) and, for a
     * fine-tuned version, its shared top (its own layers and head on the encoder's engine, built
     * the first time any subtask of this JVM loads the version; only these layers are added, the
     * trunk is the shared encoder's).
     */
    public LoadedModel load(ModelBundle bundle) throws IOException {
        var encoder = registry.encoder(bundle.manifest().encoder().contentHash());
        // Checked again on the encoder that loads: the registry may have changed since open().
        bundle.manifest().encoder().requireSame(encoder.manifest(), bundle);
        SharedEncoders.Lease lease =
                SharedEncoders.acquire(
                        encoder,
                        device == null ? TensorFlowEncoder.defaultDevice() : device,
                        precision);
        BertTokenizer tokenizer = null;
        SharedTops.Lease top = null;
        try {
            tokenizer =
                    BertTokenizer.load(
                            encoder.tokenizerFile(),
                            bundle.manifest().maxSeqLen(),
                            bundle.manifest().textTruncation());
            SharedTops.Identity identity =
                    new SharedTops.Identity(
                            bundle.name(), bundle.version(), bundle.manifestSha256());
            top =
                    bundle.isFineTuned()
                            ? SharedTops.acquire(
                                    identity,
                                    bundle::topWeights,
                                    weights ->
                                            top(
                                                    encoder,
                                                    weights,
                                                    bundle.manifest().fineTune().isInt8()))
                            : null;
            SharedByKey<SharedTops.Identity, NgramClassifier>.Lease ngrams =
                    bundle.isBlended() ? NGRAMS.acquire(identity, bundle::ngrams) : null;
            return new LoadedModel(bundle, lease, tokenizer, top, ngrams);
        } catch (IOException | RuntimeException e) {
            if (top != null) {
                top.close();
            }
            if (tokenizer != null) {
                tokenizer.close();
            }
            lease.close();
            throw e;
        }
    }

    /**
     * A top runs on its encoder's engine: TensorFlow for BERT-base, ONNX Runtime for the small
     * encoders, sliced out of the encoder's own graph with the top's weights put in, its matrix
     * multiplies in 8-bit integers when the version says so (the bundle check allows that only on
     * ONNX Runtime).
     */
    private static Top top(EncoderBundle encoder, TopWeights weights, boolean int8)
            throws IOException {
        if (encoder.manifest().runtime() == EncoderEngine.ONNX_RUNTIME) {
            return OnnxTop.build(
                    OnnxGraph.read(encoder.graphFile()),
                    encoder.manifest().tensors(),
                    weights,
                    Runtime.getRuntime().availableProcessors(),
                    int8);
        }
        return TopModel.of(weights);
    }
}
