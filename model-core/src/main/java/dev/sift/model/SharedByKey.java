package dev.sift.model;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BiConsumer;

/**
 * One value per key per JVM, loaded by its first user and released by its last: the shared,
 * reference-counted cache behind the job's encoders and fine-tuned tops, which several slots of one
 * TaskManager use at once.
 *
 * <pre>{@code
 * try (SharedByKey<String, Encoder>.Lease lease = encoders.acquire(hash, () -> load(hash))) {
 *     lease.value().encode(batch);
 * }
 * }</pre>
 *
 * <p>The lock guards the map only: a value loads outside it, and users of the same key wait on that
 * key's future alone, so loading (hashing and calibrating a 420 MB encoder, say) never holds up a
 * user of another key. A load that fails fails every user waiting for it and leaves nothing behind:
 * the next {@link #acquire} tries again.
 *
 * @param <K> what identifies a value
 * @param <V> the value
 */
public final class SharedByKey<K, V> {

    /** Loads a value; called at most once per key while any lease of it is open. */
    @FunctionalInterface
    public interface Loader<V> {
        V load() throws IOException;
    }

    private final BiConsumer<K, V> release;
    private final Map<K, Entry<V>> entries = new HashMap<>();

    /**
     * @param release frees a key's value once its last lease is closed
     */
    public SharedByKey(BiConsumer<K, V> release) {
        this.release = release;
    }

    /**
     * The value of {@code key}, loaded by {@code loader} if no one holds it; waits, without holding
     * up other keys, while another thread loads it.
     */
    public Lease acquire(K key, Loader<V> loader) throws IOException {
        Entry<V> entry;
        boolean loadsHere;
        synchronized (entries) {
            entry = entries.get(key);
            loadsHere = entry == null;
            if (loadsHere) {
                entry = new Entry<>();
                entries.put(key, entry);
            }
            entry.references++;
        }
        if (loadsHere) {
            try {
                entry.value.complete(loader.load());
            } catch (IOException | RuntimeException | Error e) {
                synchronized (entries) {
                    entries.remove(key, entry);
                }
                entry.value.completeExceptionally(e);
            }
        }
        try {
            return new Lease(key, entry, entry.value.join());
        } catch (CompletionException e) {
            throw rethrown(e.getCause());
        }
    }

    /** How many values are loaded or loading; for tests and metrics. */
    public int size() {
        synchronized (entries) {
            return entries.size();
        }
    }

    private static IOException rethrown(Throwable cause) {
        if (cause instanceof IOException io) {
            return io;
        }
        if (cause instanceof RuntimeException runtime) {
            throw runtime;
        }
        if (cause instanceof Error error) {
            throw error;
        }
        return new IOException(cause);
    }

    private static final class Entry<V> {
        final CompletableFuture<V> value = new CompletableFuture<>();
        int references;
    }

    /** A handle on a shared value; closing it gives the reference back. */
    public final class Lease implements AutoCloseable {
        private final K key;
        private final Entry<V> entry;
        private final V value;
        private boolean closed;

        private Lease(K key, Entry<V> entry, V value) {
            this.key = key;
            this.entry = entry;
            this.value = value;
        }

        public V value() {
            return value;
        }

        @Override
        public void close() {
            boolean last;
            synchronized (entries) {
                if (closed) {
                    return;
                }
                closed = true;
                last = --entry.references == 0;
                if (last) {
                    entries.remove(key, entry);
                }
            }
            if (last) {
                release.accept(key, value);
            }
        }
    }
}
