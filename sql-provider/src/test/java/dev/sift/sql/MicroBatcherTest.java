package dev.sift.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Rows submitted one at a time leave in batches, cut by size or by the wait deadline. */
class MicroBatcherTest {

    private final List<List<Integer>> batches = Collections.synchronizedList(new ArrayList<>());

    private List<Integer> doubled(List<Integer> batch) {
        batches.add(List.copyOf(batch));
        return batch.stream().map(i -> i * 2).toList();
    }

    @Test
    void fullBatchesRunAtOnceAndTheRestAtTheDeadline() throws Exception {
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        long start = System.nanoTime();
        try (var batcher =
                new MicroBatcher<Integer, Integer>("t", 4, Duration.ofMillis(400), this::doubled)) {
            for (int i = 0; i < 10; i++) {
                futures.add(batcher.submit(i));
            }
            for (int i = 0; i < 8; i++) {
                assertThat(futures.get(i).get(5, TimeUnit.SECONDS)).isEqualTo(2 * i);
            }
            long fullBatchesMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(futures.get(9).get(5, TimeUnit.SECONDS)).isEqualTo(18);
            long lastMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(fullBatchesMillis).as("full batches do not wait").isLessThan(400);
            assertThat(lastMillis)
                    .as("a partial batch waits for its deadline")
                    .isGreaterThanOrEqualTo(400);
        }
        assertThat(batches)
                .containsExactly(List.of(0, 1, 2, 3), List.of(4, 5, 6, 7), List.of(8, 9));
    }

    @Test
    void aLoneRowRunsAfterMaxWait() throws Exception {
        try (var batcher =
                new MicroBatcher<Integer, Integer>(
                        "t", 32, Duration.ofMillis(150), this::doubled)) {
            long start = System.nanoTime();
            assertThat(batcher.submit(21).get(5, TimeUnit.SECONDS)).isEqualTo(42);
            assertThat((System.nanoTime() - start) / 1_000_000).isBetween(150L, 3_000L);
        }
        assertThat(batches).containsExactly(List.of(21));
    }

    @Test
    void aFailedBatchFailsItsRowsOnlyAndTheNextOneRuns() throws Exception {
        try (var batcher =
                new MicroBatcher<Integer, Integer>(
                        "t",
                        2,
                        Duration.ofSeconds(5),
                        batch -> {
                            if (batch.contains(-1)) {
                                throw new IllegalStateException("encoder failed");
                            }
                            return doubled(batch);
                        })) {
            var bad = List.of(batcher.submit(-1), batcher.submit(1));
            for (var future : bad) {
                assertThatThrownBy(() -> future.get(5, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .hasMessageContaining("encoder failed");
            }
            assertThat(
                            batcher.submit(3)
                                    .thenCombine(batcher.submit(4), Integer::sum)
                                    .get(5, TimeUnit.SECONDS))
                    .isEqualTo(14);
        }
    }

    private static void closeQuietly(MicroBatcher<?, ?> batcher) {
        try {
            batcher.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void closingFinishesTheRunningBatchAndFailsRowsStillQueued() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Integer> queued;
        var batcher =
                new MicroBatcher<Integer, Integer>(
                        "t",
                        1,
                        Duration.ZERO,
                        batch -> {
                            running.countDown();
                            release.await();
                            return batch;
                        });
        CompletableFuture<Integer> first = batcher.submit(1);
        assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
        queued = batcher.submit(2);
        Thread closing = new Thread(() -> closeQuietly(batcher));
        closing.start();
        Thread.sleep(200); // close() has begun and waits for the running batch
        release.countDown();
        closing.join(5_000);
        assertThat(first.get(5, TimeUnit.SECONDS)).isEqualTo(1);
        assertThatThrownBy(() -> queued.get(5, TimeUnit.SECONDS))
                .isInstanceOf(CancellationException.class);
        assertThatThrownBy(() -> batcher.submit(3).get(5, TimeUnit.SECONDS))
                .isInstanceOf(CancellationException.class);
    }
}
