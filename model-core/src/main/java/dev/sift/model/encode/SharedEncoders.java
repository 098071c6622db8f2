package dev.sift.model.encode;

import ai.djl.Device;
import dev.sift.model.SharedByKey;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderEngine;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded encoder per JVM per content hash, device and precision, shared by every user and
 * reference-counted: the first {@link #acquire} verifies and loads it, the last {@link
 * Lease#close()} releases its native memory. A TaskManager running several slots of the streaming
 * job thus holds BERT-base once per device its slots use (once, unless its slots spread over
 * several GPUs).
 *
 * <p>An encoder loads outside any lock held for other encoders ({@link SharedByKey}): a slot
 * loading one does not stall another slot's swap to a second.
 *
 * <p>Loading also measures what a pass costs on this machine ({@link PassCost#measure}), once per
 * encoder, so every user plans its batches with the same figures.
 */
public final class SharedEncoders {

    private static final Logger LOG = LoggerFactory.getLogger(SharedEncoders.class);
    private static final SharedByKey<String, Loaded> ENCODERS =
            new SharedByKey<>((key, loaded) -> loaded.encoder().close());

    private SharedEncoders() {}

    /** A handle on a shared encoder; closing it gives the reference back. */
    public interface Lease extends AutoCloseable {
        Encoder encoder();

        /** What a forward pass of this encoder costs here, measured when it loaded. */
        PassCost passCost();

        @Override
        void close();
    }

    private record Loaded(Encoder encoder, PassCost passCost) {}

    /** The encoder on {@link TensorFlowEncoder#defaultDevice()}. */
    public static Lease acquire(EncoderBundle bundle) throws IOException {
        return acquire(bundle, TensorFlowEncoder.defaultDevice());
    }

    /** The encoder on {@code device}; see {@code DeviceChoice} in the job for how one is chosen. */
    public static Lease acquire(EncoderBundle bundle, Device device) throws IOException {
        return acquire(bundle, device, EncoderPrecision.FLOAT32);
    }

    /** The encoder on {@code device}, its passes in {@code precision}. */
    public static Lease acquire(
            EncoderBundle bundle, Device requestedDevice, EncoderPrecision requestedPrecision)
            throws IOException {
        // The device and precision choices are TensorFlow's: an ONNX encoder runs on the CPU in
        // its graph's own arithmetic, whatever the job chose for BERT-base beside it.
        boolean onnx = bundle.manifest().runtime() == EncoderEngine.ONNX_RUNTIME;
        Device device = onnx ? Device.cpu() : requestedDevice;
        EncoderPrecision precision = onnx ? EncoderPrecision.FLOAT32 : requestedPrecision;
        String key = bundle.contentHash() + "@" + device + "/" + precision.id();
        SharedByKey<String, Loaded>.Lease lease =
                ENCODERS.acquire(key, () -> load(bundle, device, precision));
        return new Lease() {
            @Override
            public Encoder encoder() {
                return lease.value().encoder();
            }

            @Override
            public PassCost passCost() {
                return lease.value().passCost();
            }

            @Override
            public void close() {
                lease.close();
            }
        };
    }

    private static Loaded load(EncoderBundle bundle, Device device, EncoderPrecision precision)
            throws IOException {
        bundle.verify();
        LOG.info(
                "Loading encoder {} on {} in {}",
                bundle.contentHash().substring(0, 12),
                device,
                precision.id());
        Encoder encoder = Encoders.load(bundle, device, precision);
        try {
            return new Loaded(encoder, PassCost.measure(encoder));
        } catch (RuntimeException e) {
            encoder.close();
            throw e;
        }
    }

    /** How many encoders are loaded (or loading) right now; for tests and metrics. */
    public static int loadedCount() {
        return ENCODERS.size();
    }
}
