package dev.sift.model.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import dev.sift.model.bundle.Pooling;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Tops shared per JVM on a small geometry: one build per version however many leases, the last
 * release closes it, and threads running one top concurrently get what one thread gets.
 */
class SharedTopsTest {

    private static final TopSpec SPEC = new TopSpec(TopFormatTest.SMALL, 2, 2, Pooling.POOLER, 2);

    private static final SharedTops.Identity V1 =
            new SharedTops.Identity("spam", 1, "1".repeat(64));
    private static final SharedTops.Identity V2 =
            new SharedTops.Identity("spam", 2, "2".repeat(64));

    private final AtomicInteger builds = new AtomicInteger();

    /** Weights for one version, counting how often a top asks for them, i.e. is built. */
    private Supplier<TopWeights> weights(long seed) {
        return () -> {
            builds.incrementAndGet();
            return RandomTopWeights.of(SPEC, seed);
        };
    }

    @Test
    void leasesOfOneVersionShareOneTopBuiltOnce() {
        int before = SharedTops.liveCount();
        try (SharedTops.Lease first = SharedTops.acquire(V1, weights(1));
                SharedTops.Lease second = SharedTops.acquire(V1, weights(1))) {
            assertThat(builds).hasValue(1);
            assertThat(SharedTops.liveCount()).isEqualTo(before + 1);
            assertThat(second.top()).isSameAs(first.top());
        }
        assertThat(SharedTops.liveCount()).isEqualTo(before);
    }

    @Test
    void differentVersionsGetTopsOfTheirOwn() {
        int before = SharedTops.liveCount();
        try (SharedTops.Lease v1 = SharedTops.acquire(V1, weights(1));
                SharedTops.Lease v2 = SharedTops.acquire(V2, weights(2))) {
            assertThat(builds).hasValue(2);
            assertThat(SharedTops.liveCount()).isEqualTo(before + 2);
            assertThat(v2.top()).isNotSameAs(v1.top());
        }
    }

    @Test
    void theTopClosesWhenItsLastLeaseIsReleasedAndNotBefore() {
        int before = SharedTops.liveCount();
        SharedTops.Lease first = SharedTops.acquire(V1, weights(1));
        SharedTops.Lease second = SharedTops.acquire(V1, weights(1));
        Top top = first.top();
        TopBatch batch = batch(new Random(1), 1);

        first.close();
        first.close(); // a second close of the same lease gives nothing more back
        assertThat(top.run(batch).probabilities()[0]).hasSize(2);
        assertThat(SharedTops.liveCount()).isEqualTo(before + 1);

        second.close();
        assertThat(SharedTops.liveCount()).isEqualTo(before);
        assertThatThrownBy(() -> top.run(batch)).isInstanceOf(IllegalStateException.class);

        // A later acquire builds the version afresh rather than handing out the closed top.
        try (SharedTops.Lease again = SharedTops.acquire(V1, weights(1))) {
            assertThat(builds).hasValue(2);
            assertThat(again.top().run(batch).probabilities()[0]).hasSize(2);
        }
    }

    @Test
    void aFailedBuildLeavesNothingBehind() {
        int before = SharedTops.liveCount();
        Supplier<TopWeights> broken =
                () -> {
                    throw new IllegalStateException("unreadable weights");
                };
        assertThatThrownBy(() -> SharedTops.acquire(V1, broken))
                .hasMessageContaining("unreadable weights");
        assertThat(SharedTops.liveCount()).isEqualTo(before);
        try (SharedTops.Lease lease = SharedTops.acquire(V1, weights(1))) {
            assertThat(builds).hasValue(1);
        }
    }

    @Test
    void concurrentRunsGiveWhatOneThreadGives() throws Exception {
        int threads = 2;
        int runsPerThread = 60;
        Random random = new Random(5);
        List<TopBatch> batches = new ArrayList<>();
        for (int i = 0; i < threads * runsPerThread; i++) {
            // Different sizes and lengths, so a call that saw another's inputs or outputs
            // would give rows of the wrong count or values.
            batches.add(batch(random, 1 + i % 4));
        }
        try (SharedTops.Lease lease = SharedTops.acquire(V1, weights(1))) {
            Top top = lease.top();
            List<float[][]> alone = new ArrayList<>();
            for (TopBatch batch : batches) {
                alone.add(top.run(batch).probabilities());
            }

            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Future<List<float[][]>>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int first = t * runsPerThread;
                    results.add(
                            pool.submit(
                                    () -> {
                                        start.await();
                                        List<float[][]> mine = new ArrayList<>();
                                        for (int i = 0; i < runsPerThread; i++) {
                                            mine.add(
                                                    top.run(batches.get(first + i))
                                                            .probabilities());
                                        }
                                        return mine;
                                    }));
                }
                for (int t = 0; t < threads; t++) {
                    List<float[][]> mine = results.get(t).get(60, TimeUnit.SECONDS);
                    for (int i = 0; i < runsPerThread; i++) {
                        float[][] expected = alone.get(t * runsPerThread + i);
                        float[][] actual = mine.get(i);
                        assertThat(actual.length)
                                .as("rows of batch %d", i)
                                .isEqualTo(expected.length);
                        for (int r = 0; r < expected.length; r++) {
                            assertThat(actual[r])
                                    .as("thread %d, batch %d, row %d", t, i, r)
                                    .containsExactly(expected[r], offset(1e-6f));
                        }
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** {@code size} rows of random vectors, each of its own length up to 6. */
    private static TopBatch batch(Random random, int size) {
        int h = SPEC.shape().hiddenSize();
        int[] lengths = new int[size];
        int length = 0;
        for (int i = 0; i < size; i++) {
            lengths[i] = 1 + random.nextInt(6);
            length = Math.max(length, lengths[i]);
        }
        float[] hidden = new float[size * length * h];
        for (int i = 0; i < hidden.length; i++) {
            hidden[i] = (float) random.nextGaussian();
        }
        return new TopBatch(size, length, hidden, lengths, null);
    }
}
