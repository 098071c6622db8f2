package dev.sift.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SharedByKeyTest {

    private final List<String> released = new ArrayList<>();
    private final SharedByKey<String, String> cache =
            new SharedByKey<>(
                    (key, value) -> {
                        synchronized (released) {
                            released.add(value);
                        }
                    });
    private final ExecutorService threads = Executors.newFixedThreadPool(3);

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    @Test
    void oneLoadPerKeyReleasedWhenTheLastLeaseCloses() throws Exception {
        AtomicInteger loads = new AtomicInteger();
        SharedByKey<String, String>.Lease first =
                cache.acquire("a", () -> "a" + loads.incrementAndGet());
        SharedByKey<String, String>.Lease second =
                cache.acquire("a", () -> "a" + loads.incrementAndGet());

        assertThat(second.value()).isSameAs(first.value()).isEqualTo("a1");
        first.close();
        first.close(); // twice: still one reference given back
        assertThat(released).isEmpty();
        second.close();
        assertThat(released).containsExactly("a1");
        assertThat(cache.size()).isZero();
    }

    @Test
    void aSlowLoadHoldsUpNoOtherKeyAndItsWaitersGetItsValue() throws Exception {
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        Future<SharedByKey<String, String>.Lease> slow =
                threads.submit(
                        () ->
                                cache.acquire(
                                        "slow",
                                        () -> {
                                            loading.countDown();
                                            await(finish);
                                            return "slow value";
                                        }));
        assertThat(loading.await(10, TimeUnit.SECONDS)).isTrue();

        try (var other =
                threads.submit(() -> cache.acquire("other", () -> "other value"))
                        .get(5, TimeUnit.SECONDS)) {
            assertThat(other.value()).as("loaded while 'slow' loads").isEqualTo("other value");
        }
        Future<SharedByKey<String, String>.Lease> waiter =
                threads.submit(() -> cache.acquire("slow", () -> "a second load"));
        Thread.sleep(100);
        assertThat(waiter.isDone()).as("waits for the load under way").isFalse();

        finish.countDown();
        try (var first = slow.get(10, TimeUnit.SECONDS);
                var second = waiter.get(10, TimeUnit.SECONDS)) {
            assertThat(second.value()).isSameAs(first.value()).isEqualTo("slow value");
        }
    }

    @Test
    void aFailedLoadLeavesNothingBehindAndTheNextTryLoads() throws Exception {
        assertThatThrownBy(
                        () ->
                                cache.acquire(
                                        "a",
                                        () -> {
                                            throw new IOException("registry unreachable");
                                        }))
                .isInstanceOf(IOException.class)
                .hasMessage("registry unreachable");
        assertThat(cache.size()).isZero();

        try (var lease = cache.acquire("a", () -> "loaded")) {
            assertThat(lease.value()).isEqualTo("loaded");
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
