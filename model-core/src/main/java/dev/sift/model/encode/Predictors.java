package dev.sift.model.encode;

import ai.djl.inference.Predictor;
import ai.djl.translate.TranslateException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * The predictors of one loaded model, handed to the threads that run passes.
 *
 * <p>Where the device runs passes concurrently (a GPU: TensorFlow queues the kernels of several
 * session runs on its streams, and a second pass fills the gaps the first leaves), every calling
 * thread gets a predictor of its own, DJL's idiom for concurrent inference: a {@link Predictor} is
 * not thread-safe, the model under it is. On the CPU every caller shares one predictor and passes
 * run one at a time, because one pass already spreads over every core through TensorFlow's intra-op
 * pool; concurrent passes would only contend for the same cores and caches.
 *
 * <p>{@link #close()} waits for passes in flight, then closes every predictor it handed out.
 */
final class Predictors<I, O> implements AutoCloseable {

    private final Supplier<Predictor<I, O>> factory;
    private final boolean concurrent;
    private final ThreadLocal<Predictor<I, O>> perThread = new ThreadLocal<>();
    private final Object serial;

    /** Passes hold the read lock, close the write lock: no predictor closes under a pass. */
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();

    /** Every predictor handed out, to close them all; guarded by itself. */
    private final List<Predictor<I, O>> created = new ArrayList<>();

    private boolean closed;

    /**
     * @param factory makes a predictor of the model ({@code model::newPredictor})
     * @param concurrent whether the device runs passes concurrently: one predictor per thread if
     *     so, one shared predictor and one pass at a time if not
     * @param serial what passes hold when they run one at a time; the encoder's trunk passes hold
     *     the same, so no two passes of one encoder compete for the CPU's cores
     */
    Predictors(Supplier<Predictor<I, O>> factory, boolean concurrent, Object serial) {
        this.factory = factory;
        this.concurrent = concurrent;
        this.serial = serial;
    }

    Predictors(Supplier<Predictor<I, O>> factory, boolean concurrent) {
        this(factory, concurrent, new Object());
    }

    O predict(I input) throws TranslateException {
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("The encoder is closed; acquire it again");
            }
            if (concurrent) {
                return mine().predict(input);
            }
            synchronized (serial) {
                return shared().predict(input);
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** How many predictors are open: one per thread that ran a pass, or one on the CPU. */
    int openCount() {
        synchronized (created) {
            return created.size();
        }
    }

    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            closed = true;
            synchronized (created) {
                created.forEach(Predictor::close);
                created.clear();
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    private Predictor<I, O> mine() {
        Predictor<I, O> predictor = perThread.get();
        if (predictor == null) {
            predictor = newPredictor();
            perThread.set(predictor);
        }
        return predictor;
    }

    /** Called under {@link #serial}. */
    private Predictor<I, O> shared() {
        synchronized (created) {
            return created.isEmpty() ? newPredictor() : created.get(0);
        }
    }

    private Predictor<I, O> newPredictor() {
        Predictor<I, O> predictor = factory.get();
        synchronized (created) {
            created.add(predictor);
        }
        return predictor;
    }
}
