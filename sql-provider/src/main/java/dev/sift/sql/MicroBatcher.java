package dev.sift.sql;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Turns one-at-a-time calls into batches: {@link #submit} queues an input and returns its future; a
 * worker thread takes the queue in batches of at most {@code maxSize}, waiting at most {@code
 * maxWait} after a batch's first input for more to arrive, and runs each batch with the {@link
 * Runner}. Plain Java, no Flink: ML_PREDICT calls its function once per row, and this is where the
 * rows meet again.
 *
 * <p>One worker runs one batch at a time: the encoder already uses every core for one pass, and
 * while it runs the next batch fills.
 */
final class MicroBatcher<I, O> implements AutoCloseable {

    /** Runs one batch; returns one output per input, in input order. */
    @FunctionalInterface
    interface Runner<I, O> {
        List<O> run(List<I> batch) throws Exception;
    }

    private record Pending<I, O>(I input, CompletableFuture<O> future, long queuedNanos) {}

    private final int maxSize;
    private final long maxWaitNanos;
    private final Runner<I, O> runner;
    private final LinkedBlockingQueue<Pending<I, O>> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean running = true;
    private boolean inBatch;

    MicroBatcher(String name, int maxSize, Duration maxWait, Runner<I, O> runner) {
        if (maxSize < 1) {
            throw new IllegalArgumentException("maxSize must be at least 1, not " + maxSize);
        }
        this.maxSize = maxSize;
        this.maxWaitNanos = maxWait.toNanos();
        this.runner = runner;
        this.worker = new Thread(this::work, name);
        worker.setDaemon(true);
        worker.start();
    }

    CompletableFuture<O> submit(I input) {
        CompletableFuture<O> future = new CompletableFuture<>();
        synchronized (this) { // against close(): nothing is queued after the worker's last look
            if (running) {
                queue.add(new Pending<>(input, future, System.nanoTime()));
                return future;
            }
        }
        future.completeExceptionally(new CancellationException("The batcher is closed"));
        return future;
    }

    /** Inputs waiting for a batch; for metrics. */
    int queued() {
        return queue.size();
    }

    private void work() {
        List<Pending<I, O>> batch = new ArrayList<>(maxSize);
        while (running) {
            try {
                Pending<I, O> first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                long deadline = first.queuedNanos() + maxWaitNanos;
                while (batch.size() < maxSize) {
                    long left = deadline - System.nanoTime();
                    // Past the deadline, still take what has already arrived: it is late too.
                    Pending<I, O> next =
                            left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
                    if (next == null) {
                        break;
                    }
                    batch.add(next);
                }
                synchronized (this) {
                    if (!running) {
                        break;
                    }
                    inBatch = true;
                }
                run(batch);
                batch.clear();
                synchronized (this) {
                    inBatch = false;
                }
            } catch (InterruptedException e) {
                break;
            }
        }
        synchronized (this) {
            running = false; // also when interrupted from elsewhere
        }
        CancellationException closed = new CancellationException("The batcher is closed");
        batch.forEach(p -> p.future().completeExceptionally(closed));
        queue.forEach(p -> p.future().completeExceptionally(closed));
    }

    private void run(List<Pending<I, O>> batch) {
        List<O> outputs;
        try {
            outputs = runner.run(batch.stream().map(Pending::input).toList());
            if (outputs.size() != batch.size()) {
                throw new IllegalStateException(
                        "A batch of " + batch.size() + " gave " + outputs.size() + " outputs");
            }
        } catch (Exception | LinkageError e) {
            batch.forEach(p -> p.future().completeExceptionally(e));
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).future().complete(outputs.get(i));
        }
    }

    /**
     * Stops the worker: a batch that runs finishes, inputs still queued fail with cancellation. A
     * worker waiting for inputs is woken; one running a batch is not interrupted, since the
     * encoder's native call would not notice and the batch's rows may still be delivered.
     */
    @Override
    public void close() throws InterruptedException {
        synchronized (this) {
            running = false;
            if (!inBatch) {
                worker.interrupt();
            }
        }
        worker.join();
    }
}
