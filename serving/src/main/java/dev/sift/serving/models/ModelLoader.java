package dev.sift.serving.models;

import ai.djl.Device;
import dev.sift.model.SharedByKey;
import dev.sift.model.bundle.EncoderBundle;
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
     * fine-tuned version, its shared top (its own layers and head, on TensorFlow or in int8 on ONNX
     * Runtime, built the first time any subtask of this JVM loads the version; only these layers
     * are added, the trunk is the shared encoder's).
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
     * A float32 top runs on TensorFlow, the graph it was trained as, whatever the encoder: for
     * [CLS] pooling it runs its last layer on the [CLS] position alone, and measured faster than
     * the same layers sliced out of an ONNX graph (10% for MiniLM's top five, about 2x for
     * bge-small's top two). An int8 top (the bundle check allows it only on an ONNX encoder) runs
     * on ONNX Runtime: the encoder's own upper layers sliced out of its graph with the top's
     * weights put in, their matrix multiplies in 8-bit integers.
     */
    private static Top top(EncoderBundle encoder, TopWeights weights, boolean int8)
            throws IOException {
        if (int8) {
            return OnnxTop.build(
                    OnnxGraph.read(encoder.graphFile()),
                    encoder.manifest().tensors(),
                    weights,
                    Runtime.getRuntime().availableProcessors(),
                    true);
        }
        return TopModel.of(weights);
    }
}
