package dev.sift.serving.classify;

import dev.sift.serving.request.ClassifyRequest;
import java.nio.charset.StandardCharsets;

/**
 * Which requests a canary answers: those whose stable hash falls in the canary's share. The hash is
 * of the model's name and the request's Kafka key, or its id where the record has no key, so a
 * record gets the same version on every subtask, after a restore and after a rescale, and records
 * of one key (one user, one thread) see one version. The model's name keeps two models' canaries
 * from picking the same records.
 *
 * <p>The share has a resolution of a hundredth of a percent: the hash picks one of 10,000 buckets.
 */
public final class CanaryRouting {

    static final int BUCKETS = 10_000;

    private CanaryRouting() {}

    /** Whether the canary of {@code model} answers {@code request} at {@code percent} percent. */
    public static boolean picks(String model, ClassifyRequest request, double percent) {
        return bucket(model, routingKey(request)) < Math.round(percent * (BUCKETS / 100));
    }

    /** The key's bucket for that model, in [0, {@link #BUCKETS}). */
    static int bucket(String model, byte[] key) {
        long hash = fnv1a(FNV_OFFSET, model.getBytes(StandardCharsets.UTF_8));
        hash = fnv1a(hash ^ 0xff, key); // a separator no UTF-8 model name ends with
        return (int) Long.remainderUnsigned(mix(hash), BUCKETS);
    }

    /** The record's Kafka key where it has one, else its id. */
    static byte[] routingKey(ClassifyRequest request) {
        return request.originalKey != null && request.originalKey.length > 0
                ? request.originalKey
                : request.id.getBytes(StandardCharsets.UTF_8);
    }

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private static long fnv1a(long hash, byte[] bytes) {
        for (byte b : bytes) {
            hash ^= b & 0xff;
            hash *= FNV_PRIME;
        }
        return hash;
    }

    /**
     * A 64-bit finalizer (the one of MurmurHash3): FNV-1a alone leaves the low bits of similar keys
     * ("mail-1", "mail-2") too alike for a remainder to spread them.
     */
    private static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb93fe49a1a53L;
        h ^= h >>> 33;
        return h;
    }
}
