package dev.sift.sql;

import dev.sift.job.models.LoadedModel;
import dev.sift.job.models.ModelLoader;
import dev.sift.job.models.Registries;
import dev.sift.model.bundle.BundleException;
import java.io.IOException;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model version a predict function serves. A pinned version is loaded once. With {@code
 * latest}, a background thread checks the registry every refresh interval and loads a newer version
 * off the hot path (through the job's {@link ModelLoader}: verified, on the JVM's shared encoder);
 * the batch thread switches to it between two batches, so a batch never mixes versions, and closes
 * the old one. A version that fails to load is refused and the serving one stays.
 */
final class ServedModel implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ServedModel.class);

    private final SiftModelSettings settings;
    private final ModelLoader loader;
    private final AtomicReference<LoadedModel> next = new AtomicReference<>();
    private volatile LoadedModel current;
    private volatile long refused;
    private ScheduledExecutorService refresher;

    ServedModel(SiftModelSettings settings) {
        this.settings = settings;
        this.loader = new ModelLoader(Registries.open(settings.registry()));
    }

    /** Loads the version to serve now; with {@code latest}, starts following newer ones. */
    void start() throws IOException {
        long version;
        if (settings.followsLatest()) {
            version =
                    newest().orElseThrow(
                                    () ->
                                            new BundleException(
                                                    "Model '"
                                                            + settings.model()
                                                            + "' has no version in the registry at "
                                                            + settings.registry()));
        } else {
            version = settings.pinnedVersion();
        }
        current = load(version);
        LOG.info("Serving {} v{}", settings.model(), version);
        if (settings.followsLatest()) {
            refresher =
                    Executors.newSingleThreadScheduledExecutor(
                            r -> {
                                Thread t = new Thread(r, "sift-refresh-" + settings.model());
                                t.setDaemon(true);
                                return t;
                            });
            long every = settings.refreshInterval().toMillis();
            refresher.scheduleWithFixedDelay(this::refresh, every, every, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * The model for the next batch. Called by the one thread that runs batches, which is why it may
     * close the version it replaces: nothing else holds it.
     */
    LoadedModel forNextBatch() {
        LoadedModel newer = next.getAndSet(null);
        if (newer != null) {
            LoadedModel old = current;
            current = newer;
            old.close();
            LOG.info(
                    "Switched {} from v{} to v{}",
                    settings.model(),
                    old.version(),
                    newer.version());
        }
        return current;
    }

    /** The registry's newest version of the model. */
    private OptionalLong newest() throws IOException {
        List<Long> versions = loader.registry().versions(settings.model());
        return versions.isEmpty()
                ? OptionalLong.empty()
                : OptionalLong.of(versions.get(versions.size() - 1));
    }

    /** Opens (verifying every file hash and shape) and loads one version. */
    private LoadedModel load(long version) throws IOException {
        return loader.load(loader.registry().open(settings.model(), version));
    }

    /** The version serving now; 0 before {@link #start()}. */
    long version() {
        LoadedModel serving = current;
        return serving == null ? 0 : serving.version();
    }

    private void refresh() {
        long newest;
        try {
            newest = newest().orElse(0);
        } catch (IOException | RuntimeException e) {
            LOG.warn("Cannot list the versions of {}: {}", settings.model(), e.toString());
            return;
        }
        LoadedModel waiting = next.get();
        long known = Math.max(waiting != null ? waiting.version() : version(), refused);
        if (newest <= known) {
            return;
        }
        LoadedModel loaded;
        try {
            loaded = load(newest);
        } catch (IOException | RuntimeException e) {
            refused = newest;
            LOG.warn(
                    "Refused {} v{}; still serving v{}: {}",
                    settings.model(),
                    newest,
                    version(),
                    e.toString());
            return;
        }
        LoadedModel superseded = next.getAndSet(loaded);
        if (superseded != null) {
            superseded.close(); // never served
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (refresher != null) {
            refresher.shutdownNow();
            refresher.awaitTermination(1, TimeUnit.MINUTES);
        }
        LoadedModel waiting = next.getAndSet(null);
        if (waiting != null) {
            waiting.close();
        }
        if (current != null) {
            current.close();
            current = null;
        }
    }
}
