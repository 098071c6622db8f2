package dev.sift.job.models;

import ai.djl.Device;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.registry.RegistryReader;
import dev.sift.schemas.AnnouncementSignatures;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.schemas.RecordCodec;
import dev.sift.schemas.RecordDecodingException;
import java.io.IOException;
import java.security.PublicKey;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which model versions serve in one subtask, and why. Plain Java: the inference operator feeds it
 * announcements from the broadcast side and reads {@link #serving()} when it flushes a batch.
 *
 * <p>Every announcement, whatever its action, passes the same checks before it changes anything:
 * the model is one this job serves; with a public key configured, the signature verifies; it was
 * made after the last announcement accepted for the model (so a captured one cannot be replayed and
 * an older one cannot overtake a newer one); an activation moves forward; and the bundle it names
 * verifies in the registry (manifest hash, every file hash, shapes). What passes is returned for
 * the caller to record in broadcast state; what fails is counted, logged, and changes nothing.
 *
 * <p>Loading a verified version (the encoder, the tokenizer) runs on a background thread; {@link
 * #applyFinishedLoads()} swaps finished ones in on the caller's thread, between records. A version
 * whose load fails is refused there and the serving one stays; the accepted record is kept, so a
 * restart tries it again.
 */
public final class ModelManager implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ModelManager.class);

    /** What the manager reports; the operator turns these into metrics. */
    public interface Events {
        /** An announcement or a load was refused; the serving version of {@code model} stays. */
        void refused(String model, String reason);

        /** {@code model} serves a new version. */
        void serving(String model);

        /** {@code model} was retired: nothing serves it any more. */
        default void retired(String model) {}
    }

    private final ModelLoader loader;
    private final PublicKey announcementKey;
    private final Set<String> servedModels;
    private final Events events;
    private final RecordCodec<ModelAnnouncement> codec = RecordCodec.of(ModelAnnouncement.class);

    /** The last accepted announcement per model: a mirror of the operator's broadcast state. */
    private final Map<String, ActiveVersion> accepted = new LinkedHashMap<>();

    /** Written on the caller's thread only; concurrent because metric gauges read it. */
    private final Map<String, LoadedModel> serving = new ConcurrentHashMap<>();

    private final ExecutorService loads;
    private final Queue<LoadOutcome> finished = new ConcurrentLinkedQueue<>();
    private int pendingLoads;

    private record LoadOutcome(ModelBundle bundle, LoadedModel model, Exception failure) {}

    /**
     * @param announcementKey Ed25519 key every announcement must be signed with, or null to accept
     *     unsigned ones
     * @param servedModels the models this job serves; empty for every model in the registry
     */
    public ModelManager(
            RegistryReader registry,
            PublicKey announcementKey,
            Set<String> servedModels,
            Events events) {
        this(registry, null, announcementKey, servedModels, events);
    }

    /**
     * As above, with the encoders on {@code device} (a subtask's {@code DeviceChoice}); null for
     * the default device.
     */
    public ModelManager(
            RegistryReader registry,
            Device device,
            PublicKey announcementKey,
            Set<String> servedModels,
            Events events) {
        this(new ModelLoader(registry, device), announcementKey, servedModels, events);
    }

    /** As above, loading through {@code loader} (its device and encoder precision). */
    public ModelManager(
            ModelLoader loader,
            PublicKey announcementKey,
            Set<String> servedModels,
            Events events) {
        this.loader = loader;
        this.announcementKey = announcementKey;
        this.servedModels = Set.copyOf(servedModels);
        this.events = events;
        this.loads =
                Executors.newSingleThreadExecutor(
                        r -> {
                            Thread thread = new Thread(r, "sift-model-loader");
                            thread.setDaemon(true);
                            return thread;
                        });
    }

    /** The models serving right now, by name; read-only. */
    public Map<String, LoadedModel> serving() {
        return Collections.unmodifiableMap(serving);
    }

    /** The version of {@code model} serving now; empty when none does. Safe from any thread. */
    public OptionalLong servingVersion(String model) {
        LoadedModel loaded = serving.get(model);
        return loaded == null ? OptionalLong.empty() : OptionalLong.of(loaded.version());
    }

    /** The last accepted announcement per model, as broadcast state records it; read-only. */
    public Map<String, ActiveVersion> accepted() {
        return Collections.unmodifiableMap(accepted);
    }

    /** Verified versions still loading in the background. */
    public int pendingLoads() {
        return pendingLoads;
    }

    /**
     * Restore: serve exactly what the state recorded. A version the registry no longer holds (or
     * holds changed) does not serve; requests naming it are dead-lettered until a new announcement.
     */
    public void restore(Map<String, ActiveVersion> state) {
        accepted.putAll(state);
        state.forEach(
                (name, active) -> {
                    if (active.retired || !serves(name)) {
                        return;
                    }
                    try {
                        serve(
                                loader.load(
                                        loader.verify(
                                                name, active.version, active.manifestSha256)));
                    } catch (IOException | RuntimeException e) {
                        refuse(name, "cannot restore " + name + " " + active, e);
                    }
                });
        LOG.info("Restored {}; serving {}", accepted, serving.values());
    }

    /**
     * Fresh start: obey the announcement the registry recorded last for each model (see {@link
     * ModelRegistry#recordAnnouncement}), verified like one from Kafka. A model that was published
     * but never announced does not serve, nor does a retired one.
     *
     * @return the accepted announcements, for the caller to record in broadcast state
     */
    public Map<String, ActiveVersion> startFromRegistry() throws IOException {
        RegistryReader registry = loader.registry();
        for (String name : registry.models()) {
            if (!serves(name)) {
                continue;
            }
            Optional<byte[]> recorded = registry.recordedAnnouncement(name);
            if (recorded.isEmpty()) {
                LOG.warn(
                        "{} has versions {} in the registry but none was ever announced: not"
                                + " serving it (announce one; announce --registry-only needs no"
                                + " broker)",
                        name,
                        registry.versions(name));
                continue;
            }
            ModelAnnouncement announcement;
            try {
                announcement = codec.decode(recorded.get());
            } catch (RecordDecodingException | RuntimeException e) {
                refuse(name, "the announcement the registry recorded for " + name, e);
                continue;
            }
            accept(announcement, true);
        }
        LOG.info("Started from the registry; serving {}", serving.values());
        return accepted();
    }

    /**
     * Checks an announcement and, when it passes, acts on it: a retirement at once, an activation
     * or roll back by loading the version in the background.
     *
     * @return the new record for broadcast state; empty when the announcement was refused or
     *     ignored
     */
    public Optional<ActiveVersion> onAnnouncement(ModelAnnouncement announcement) {
        return accept(announcement, false);
    }

    private Optional<ActiveVersion> accept(ModelAnnouncement announcement, boolean loadNow) {
        String name = announcement.getName();
        ModelAction action = announcement.getAction();
        String what = action + " of " + name + " v" + announcement.getVersion();
        if (!serves(name)) {
            LOG.info("Ignoring {}: this job serves only {}", what, servedModels);
            return Optional.empty();
        }
        if (announcementKey != null
                && !AnnouncementSignatures.verify(announcement, announcementKey)) {
            return refuse(
                    name,
                    what
                            + (announcement.getSignature() == null
                                    ? " is unsigned, and this job requires signatures"
                                    : "'s signature does not verify with the configured public"
                                            + " key"));
        }
        long announcedAt = announcement.getAnnouncedAt().toEpochMilli();
        ActiveVersion last = accepted.get(name);
        if (last != null && announcedAt <= last.announcedAtMillis) {
            return refuse(
                    name,
                    what
                            + " was announced at "
                            + Instant.ofEpochMilli(announcedAt)
                            + ", not after the last accepted announcement of "
                            + name
                            + " ("
                            + last
                            + " at "
                            + Instant.ofEpochMilli(last.announcedAtMillis)
                            + "): a replay or out of order");
        }
        switch (action) {
            case RETIRE:
                return Optional.of(retire(name, announcement.getVersion(), announcedAt));
            case ACTIVATE:
                if (last != null && !last.retired && announcement.getVersion() <= last.version) {
                    return refuse(
                            name,
                            what
                                    + " is stale: "
                                    + last
                                    + " is active (ROLL_BACK returns to an older version)");
                }
                break;
            case ROLL_BACK:
                break;
            default:
                LOG.warn("Ignoring {}: the action is unknown to this job", what);
                return Optional.empty();
        }
        ModelBundle bundle;
        try {
            bundle = loader.verify(announcement);
        } catch (IOException | RuntimeException e) {
            return refuse(name, what, e);
        }
        if (loadNow) {
            try {
                serve(loader.load(bundle));
            } catch (IOException | RuntimeException e) {
                return refuse(name, what + ": cannot load", e);
            }
        } else {
            loadInBackground(bundle);
        }
        ActiveVersion next =
                new ActiveVersion(bundle.version(), bundle.manifestSha256(), announcedAt);
        accepted.put(name, next);
        LOG.info("Accepted {}", what);
        return Optional.of(next);
    }

    private ActiveVersion retire(String name, long version, long announcedAt) {
        ActiveVersion retired = ActiveVersion.retired(version, announcedAt);
        accepted.put(name, retired);
        LoadedModel model = serving.remove(name);
        if (model != null) {
            model.close();
        }
        events.retired(name);
        LOG.info("Retired {} (was {})", name, model);
        return retired;
    }

    private void loadInBackground(ModelBundle bundle) {
        pendingLoads++;
        loads.execute(
                () -> {
                    try {
                        finished.add(new LoadOutcome(bundle, loader.load(bundle), null));
                    } catch (Exception e) {
                        finished.add(new LoadOutcome(bundle, null, e));
                    }
                });
    }

    /** Swaps in the versions whose loads finished; call it on the thread that reads serving. */
    public void applyFinishedLoads() {
        for (LoadOutcome outcome; (outcome = finished.poll()) != null; ) {
            pendingLoads--;
            ModelBundle bundle = outcome.bundle();
            ActiveVersion wanted = accepted.get(bundle.name());
            boolean stillWanted =
                    wanted != null && !wanted.retired && wanted.version == bundle.version();
            if (outcome.failure() != null) {
                refuse(
                        bundle.name(),
                        bundle + " could not be loaded; the serving version stays",
                        outcome.failure());
            } else if (stillWanted) {
                serve(outcome.model());
            } else {
                outcome.model().close(); // superseded while it loaded
            }
        }
    }

    private void serve(LoadedModel model) {
        LoadedModel previous = serving.put(model.name(), model);
        if (previous != null) {
            previous.close();
        }
        events.serving(model.name());
        LOG.info("Now serving {} (was {})", model, previous);
    }

    private boolean serves(String name) {
        return servedModels.isEmpty() || servedModels.contains(name);
    }

    private Optional<ActiveVersion> refuse(String name, String reason) {
        LOG.error("Refused {}", reason);
        events.refused(name, reason);
        return Optional.empty();
    }

    private Optional<ActiveVersion> refuse(String name, String what, Exception e) {
        String reason = what + ": " + e.getMessage();
        // Bundle problems are expected and their message says it all; anything else is a bug
        // or an environment failure whose stack trace the operator needs.
        if (e instanceof IOException) {
            LOG.error("Refused {}", reason);
        } else {
            LOG.error("Refused {}", reason, e);
        }
        events.refused(name, reason);
        return Optional.empty();
    }

    /** Stops loading and releases every serving model. */
    @Override
    public void close() throws InterruptedException {
        loads.shutdownNow();
        loads.awaitTermination(30, TimeUnit.SECONDS);
        for (LoadOutcome outcome; (outcome = finished.poll()) != null; ) {
            if (outcome.model() != null) {
                outcome.model().close();
            }
        }
        List.copyOf(serving.values()).forEach(LoadedModel::close);
        serving.clear();
    }
}
