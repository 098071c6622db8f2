package dev.sift.model.finetune;

import dev.sift.model.SharedByKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One built {@link Top} per JVM per fine-tuned model version, shared by every user and
 * reference-counted, as {@code SharedEncoders} shares encoders ({@link SharedByKey}: a top builds
 * outside any lock held for other tops): the first {@link #acquire} builds the top, the last {@link
 * Lease#close()} closes it. A TaskManager running several slots of the streaming job thus holds
 * each fine-tuned version's layers and head once, not once per slot.
 *
 * <pre>{@code
 * try (SharedTops.Lease lease = SharedTops.acquire(identity, bundle::topWeights)) {
 *     Top.Outputs out = lease.top().run(batch);
 * }
 * }</pre>
 *
 * <p>Every holder of a lease may call {@link TopModel#run} from its own thread: the top keeps no
 * per-call state and a TensorFlow session runs concurrent calls safely. Top runs do not take the
 * lock that runs an encoder's passes one at a time on the CPU: they did not when every subtask
 * built its own top, so sharing changes no scheduling, and a top's run is a fraction of a pass (its
 * K layers against the trunk's 12 - K). Whether holding that lock too would help on a busy CPU is
 * not measured.
 */
public final class SharedTops {

    private static final Logger LOG = LoggerFactory.getLogger(SharedTops.class);
    private static final SharedByKey<Identity, Top> TOPS =
            new SharedByKey<>(
                    (identity, top) -> {
                        LOG.info("Closing the top of {}", identity);
                        top.close();
                    });

    private SharedTops() {}

    /**
     * What makes two tops the same: the model version and the SHA-256 of its manifest, which lists
     * the SHA-256 of the top's weights, so two registries holding different weights under one name
     * and version never share a top. (The top has no device of its own; TensorFlow places it.)
     */
    public record Identity(String model, long version, String manifestSha256) {

        public Identity {
            if (model == null || manifestSha256 == null) {
                throw new IllegalArgumentException(
                        "A top is identified by its model name and manifest SHA-256; got "
                                + model
                                + " and "
                                + manifestSha256);
            }
        }

        @Override
        public String toString() {
            return model + " v" + version + " (" + manifestSha256.substring(0, 12) + ")";
        }
    }

    /** A handle on a shared top; closing it gives the reference back. */
    public interface Lease extends AutoCloseable {
        Top top();

        @Override
        void close();
    }

    /** Builds a top from its weights: on TensorFlow ({@link TopModel#of}) or another engine. */
    @FunctionalInterface
    public interface Builder {
        Top build(TopWeights weights) throws IOException;
    }

    /**
     * The TensorFlow top of {@code identity}, built from {@code weights} if no one in this JVM
     * holds it yet; {@code weights} is not called otherwise.
     */
    public static Lease acquire(Identity identity, Supplier<TopWeights> weights) {
        try {
            return acquire(identity, weights, TopModel::of);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // building reads no file: weights are in memory
        }
    }

    /**
     * The top of {@code identity}, built by {@code builder} from {@code weights} if no one in this
     * JVM holds it yet; neither is called otherwise.
     */
    public static Lease acquire(Identity identity, Supplier<TopWeights> weights, Builder builder)
            throws IOException {
        SharedByKey<Identity, Top>.Lease lease =
                TOPS.acquire(
                        identity,
                        () -> {
                            LOG.info("Building the top of {}", identity);
                            return builder.build(weights.get());
                        });
        return new Lease() {
            @Override
            public Top top() {
                return lease.value();
            }

            @Override
            public void close() {
                lease.close();
            }
        };
    }

    /** How many tops are built (or building) and not yet closed; for tests and metrics. */
    public static int liveCount() {
        return TOPS.size();
    }
}
