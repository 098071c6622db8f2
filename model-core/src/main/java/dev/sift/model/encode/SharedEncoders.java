package dev.sift.model.encode;

import ai.djl.Device;
import dev.sift.model.bundle.EncoderBundle;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded encoder per JVM per content hash, device and precision, shared by every user and
 * reference-counted: the first {@link #acquire} verifies and loads it, the last {@link
 * Lease#close()} releases its native memory. A TaskManager running several slots of the streaming
 * job thus holds BERT-base once per device its slots use (once, unless its slots spread over
 * several GPUs).
 *
 * <p>Loading also measures what a pass costs on this machine ({@link PassCost#measure}), once per
 * encoder, so every user plans its batches with the same figures.
 */
public final class SharedEncoders {

    private static final Logger LOG = LoggerFactory.getLogger(SharedEncoders.class);
    private static final Map<String, Shared> ENCODERS = new HashMap<>();

    private SharedEncoders() {}

    /** A handle on a shared encoder; closing it gives the reference back. */
    public interface Lease extends AutoCloseable {
        Encoder encoder();

        /** What a forward pass of this encoder costs here, measured when it loaded. */
        PassCost passCost();

        @Override
        void close();
    }

    /** The encoder on {@link TensorFlowEncoder#defaultDevice()}. */
    public static Lease acquire(EncoderBundle bundle) throws IOException {
        return acquire(bundle, TensorFlowEncoder.defaultDevice());
    }

    /** The encoder on {@code device}; see {@code DeviceChoice} in the job for how one is chosen. */
    public static Lease acquire(EncoderBundle bundle, Device device) throws IOException {
        return acquire(bundle, device, EncoderPrecision.FLOAT32);
    }

    /** The encoder on {@code device}, its passes in {@code precision}. */
    public static Lease acquire(EncoderBundle bundle, Device device, EncoderPrecision precision)
            throws IOException {
        String key = bundle.contentHash() + "@" + device + "/" + precision.id();
        synchronized (ENCODERS) {
            Shared shared = ENCODERS.get(key);
            if (shared == null) {
                bundle.verify();
                LOG.info(
                        "Loading encoder {} on {} in {}",
                        bundle.contentHash().substring(0, 12),
                        device,
                        precision.id());
                Encoder encoder = TensorFlowEncoder.load(bundle, device, precision.sessionConfig());
                PassCost cost;
                try {
                    cost = PassCost.measure(encoder);
                } catch (RuntimeException e) {
                    encoder.close();
                    throw e;
                }
                shared = new Shared(key, encoder, cost);
                ENCODERS.put(key, shared);
            }
            shared.references++;
            return shared.lease();
        }
    }

    /** How many encoders are loaded right now; for tests and metrics. */
    public static int loadedCount() {
        synchronized (ENCODERS) {
            return ENCODERS.size();
        }
    }

    private static final class Shared {
        private final String key;
        private final Encoder encoder;
        private final PassCost passCost;
        private int references;

        Shared(String key, Encoder encoder, PassCost passCost) {
            this.key = key;
            this.encoder = encoder;
            this.passCost = passCost;
        }

        Lease lease() {
            return new Lease() {
                private boolean closed;

                @Override
                public Encoder encoder() {
                    return encoder;
                }

                @Override
                public PassCost passCost() {
                    return passCost;
                }

                @Override
                public void close() {
                    synchronized (ENCODERS) {
                        if (closed) {
                            return;
                        }
                        closed = true;
                        if (--references == 0) {
                            ENCODERS.remove(key);
                            encoder.close();
                        }
                    }
                }
            };
        }
    }
}
