package dev.sift.sql;

import ai.djl.Device;
import dev.sift.model.bundle.BundleException;
import dev.sift.schemas.AnnouncementSignatures;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.serving.models.LoadedModel;
import dev.sift.serving.models.ModelLoader;
import dev.sift.serving.models.Registries;
import dev.sift.serving.models.RegistryVersions;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model version a predict function serves. A pinned version is loaded once. {@code announced}
 * (the default) serves what the registry recorded as the model's last announcement, as the
 * streaming job does on a fresh start: verified with the configured public key, so a version that
 * was published but never announced, rolled back from or retired is not served. {@code latest}
 * serves the newest published version. Both are followed: a background thread reads the registry
 * every refresh interval and loads the new version off the hot path (through the job's {@link
 * ModelLoader}: verified, on the JVM's shared encoder); the batch thread switches to it between two
 * batches, so a batch never mixes versions, and closes the old one. A version that fails to load is
 * refused, and the serving one stays. A retirement announced while a query runs is logged: the
 * query keeps its version until it restarts (as it keeps its model after ALTER MODEL).
 */
final class ServedModel implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ServedModel.class);
    private final SiftModelSettings settings;
    private final ModelLoader loader;
    private final PublicKey announcementKey;
    private final AtomicReference<LoadedModel> next = new AtomicReference<>();
    private volatile LoadedModel current;
    private volatile long refused;
    private Instant followedAnnouncement = Instant.MIN;
    private ScheduledExecutorService refresher;

    /**
     * @param device where the encoder runs (the subtask's {@code DeviceChoice}); null for the
     *     default device
     */
    ServedModel(SiftModelSettings settings, Device device) throws IOException {
        this.settings = settings;
        this.loader = new ModelLoader(Registries.open(settings.registry()), device);
        try {
            this.announcementKey =
                    settings.publicKeyPem() == null
                            ? null
                            : AnnouncementSignatures.publicKey(
                                    settings.publicKeyPem(), "the 'public-key' option");
        } catch (GeneralSecurityException e) {
            throw new IOException("The 'public-key' option's key is unreadable", e);
        }
        if (settings.follow() == SiftModelSettings.Follow.ANNOUNCED && announcementKey == null) {
            LOG.warn(
                    "No 'public-key' for {}: unsigned announcements are obeyed, so anyone who"
                            + " can write the registry can change what ML_PREDICT serves",
                    settings.model());
        }
    }

    /** Loads the version to serve now; unless pinned, starts following the registry. */
    void start() throws IOException {
        current =
                switch (settings.follow()) {
                    case PINNED -> load(settings.pinnedVersion(), null);
                    case LATEST -> load(newest(), null);
                    case ANNOUNCED -> {
                        ModelAnnouncement announced = announced();
                        if (announced.getAction() == ModelAction.RETIRE) {
                            throw new BundleException(
                                    "Model '"
                                            + settings.model()
                                            + "' was retired (announced "
                                            + announced.getAnnouncedAt()
                                            + "): nothing serves it until a version is announced");
                        }
                        followedAnnouncement = announced.getAnnouncedAt();
                        yield load(announced.getVersion(), announced.getManifestSha256());
                    }
                };
        LOG.info("Serving {} v{} ({})", settings.model(), current.version(), settings.follow());
        if (settings.follow() != SiftModelSettings.Follow.PINNED) {
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

    /** The version serving now; 0 before {@link #start()}. */
    long version() {
        LoadedModel serving = current;
        return serving == null ? 0 : serving.version();
    }

    /** The registry's newest version of the model. */
    private long newest() throws IOException {
        return RegistryVersions.newest(loader.registry(), settings.model());
    }

    /** The announcement the registry recorded for the model, decoded and its signature checked. */
    private ModelAnnouncement announced() throws IOException {
        return RegistryVersions.announced(
                loader.registry(),
                settings.model(),
                announcementKey,
                new RegistryVersions.OptionNames("'public-key'", "'version'"));
    }

    /**
     * Opens (verifying every file hash and shape, and the manifest's hash where one is given) and
     * loads one version.
     */
    private LoadedModel load(long version, String manifestSha256) throws IOException {
        return loader.load(
                manifestSha256 == null
                        ? loader.registry().open(settings.model(), version)
                        : loader.verify(settings.model(), version, manifestSha256));
    }

    private void refresh() {
        try {
            if (settings.follow() == SiftModelSettings.Follow.ANNOUNCED) {
                followAnnouncement();
            } else {
                followNewest();
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn(
                    "Cannot follow {} in the registry; still serving v{}: {}",
                    settings.model(),
                    version(),
                    e.toString());
        }
    }

    private void followAnnouncement() throws IOException {
        ModelAnnouncement announced = announced();
        if (!announced.getAnnouncedAt().isAfter(followedAnnouncement)) {
            return;
        }
        if (announced.getAction() == ModelAction.RETIRE) {
            followedAnnouncement = announced.getAnnouncedAt();
            LOG.warn(
                    "{} was retired ({}); this query keeps serving v{} until it restarts",
                    settings.model(),
                    announced.getAnnouncedAt(),
                    version());
            return;
        }
        LoadedModel waiting = next.get();
        long known = waiting != null ? waiting.version() : version();
        if (announced.getVersion() != known) {
            offer(load(announced.getVersion(), announced.getManifestSha256()));
        }
        // Only once loaded: a version that failed is tried again at the next refresh.
        followedAnnouncement = announced.getAnnouncedAt();
    }

    private void followNewest() throws IOException {
        long newest = newest();
        LoadedModel waiting = next.get();
        long known = Math.max(waiting != null ? waiting.version() : version(), refused);
        if (newest <= known) {
            return;
        }
        try {
            offer(load(newest, null));
        } catch (IOException | RuntimeException e) {
            refused = newest;
            throw e;
        }
    }

    private void offer(LoadedModel loaded) {
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
