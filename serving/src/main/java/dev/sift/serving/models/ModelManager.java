package dev.sift.serving.models;

import ai.djl.Device;
import dev.sift.model.bundle.BundleException;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.registry.RegistryReader;
import dev.sift.schemas.AnnouncementSignatures;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.schemas.RecordCodec;
import dev.sift.schemas.RecordDecodingException;
import dev.sift.serving.models.AcceptedVersion.Trial;
import dev.sift.serving.models.AcceptedVersion.TrialKind;
import java.io.IOException;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which model versions serve in one subtask, and why. Plain Java: the inference operator feeds it
 * announcements from the broadcast side and reads {@link #serving()} when it flushes a batch.
 *
 * <p>Two decisions are kept apart, because Flink requires broadcast state to be written alike by
 * every subtask. <em>What to serve</em> is decided from the announcement alone, the same way on
 * every subtask: the model is one this job serves; with a public key configured, the signature
 * verifies; it was made after the last announcement accepted for the model (so a captured one
 * cannot be replayed and an older one cannot overtake a newer one); an activation moves forward;
 * its bundleUri names the version's folder in this job's registry. What passes is returned for the
 * caller to record in broadcast state. <em>Whether it can serve here</em> is local: verifying the
 * bundle in the registry (manifest hash, every file hash, shapes) and loading it run on a
 * background thread; {@link #applyFinishedLoads()} swaps a finished one in on the caller's thread,
 * between records. A version that does not load is retried with a growing delay while the version
 * that served before keeps serving; where nothing served yet (after a restore), the newest earlier
 * version the record keeps that loads serves meanwhile. {@link #servingBehind(String)} says when a
 * subtask serves another version than the recorded one.
 *
 * <p>A model can have two trials beside its serving version ({@link AcceptedVersion.TrialKind}): a
 * shadow, which answers every request apart, and a canary, which answers a share of them instead.
 * They are decided, recorded and loaded like serving versions, without falling back to earlier
 * ones; {@link #trials()} gives the loaded ones to the classifier. Whatever changes the serving
 * version ends both: an activation of the version on trial promotes its loaded copy at once.
 */
public final class ModelManager implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ModelManager.class);

    /** The first retry of a version that did not load waits this long; each next one twice as. */
    static final Duration FIRST_RETRY = Duration.ofSeconds(1);

    /** The longest wait between two tries of a version that does not load. */
    static final Duration LAST_RETRY = Duration.ofMinutes(5);

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

    /**
     * The last accepted announcement per model: a mirror of the operator's broadcast state. Written
     * on the caller's thread; concurrent because retries and metric gauges read it.
     */
    private final Map<String, AcceptedVersion> accepted = new ConcurrentHashMap<>();

    /** Written on the caller's thread only; concurrent because loads and gauges read it. */
    private final Map<String, LoadedModel> serving = new ConcurrentHashMap<>();

    /** Per trial kind, the loaded trial versions by model; written as {@link #serving}. */
    private final Map<TrialKind, Map<String, LoadedModel>> onTrial = new EnumMap<>(TrialKind.class);

    {
        for (TrialKind kind : TrialKind.values()) {
            onTrial.put(kind, new ConcurrentHashMap<>());
        }
    }

    /** One thread: loads run one at a time, and retries wait on it. */
    private final ScheduledExecutorService loads;

    private final Queue<Outcome> finished = new ConcurrentLinkedQueue<>();
    private final AtomicInteger pendingLoads = new AtomicInteger();
    private final AtomicInteger waitingRetries = new AtomicInteger();

    /**
     * One try to load a recorded version: the serving one, or a trial's.
     *
     * @param trial the trial whose version this loads; null for the serving version
     * @param failures how many tries failed before this one
     * @param fallBack load an earlier version if this one fails: nothing serves the model here
     */
    private record Attempt(
            String name, TrialKind trial, AcceptedVersion wanted, int failures, boolean fallBack) {

        static Attempt serving(String name, AcceptedVersion wanted, boolean fallBack) {
            return new Attempt(name, null, wanted, 0, fallBack);
        }

        static Attempt trial(String name, TrialKind trial, AcceptedVersion wanted) {
            return new Attempt(name, trial, wanted, 0, false);
        }

        Attempt retry(boolean fallBack) {
            return new Attempt(name, trial, wanted, failures + 1, trial == null && fallBack);
        }

        long version() {
            return trial == null ? wanted.version() : wanted.trial(trial).version();
        }

        String manifestSha256() {
            return trial == null ? wanted.manifestSha256() : wanted.trial(trial).manifestSha256();
        }

        /**
         * Whether {@code current}, the record now, still asks for this version in this role: a
         * change elsewhere in the record (a trial begun or ended, an earlier version kept) does not
         * supersede the load.
         */
        boolean stillWanted(AcceptedVersion current) {
            if (current == null || current.retired()) {
                return false;
            }
            long version;
            String sha;
            if (trial == null) {
                version = current.version();
                sha = current.manifestSha256();
            } else {
                Trial now = current.trial(trial);
                if (now == null) {
                    return false;
                }
                version = now.version();
                sha = now.manifestSha256();
            }
            return version == version() && sha.equals(manifestSha256());
        }

        @Override
        public String toString() {
            return name
                    + " v"
                    + version()
                    + (trial == null ? "" : " (" + trial.name().toLowerCase(Locale.ROOT) + ")");
        }
    }

    /** What a try gave: the wanted version, or its failure and perhaps an earlier version. */
    private record Outcome(Attempt attempt, LoadedModel model, Exception failure) {}

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
                Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread thread = new Thread(r, "sift-model-loader");
                            thread.setDaemon(true);
                            return thread;
                        });
    }

    /**
     * The announcement the registry recorded last for each model {@code servedModels} admits (see
     * {@link ModelRegistry#recordAnnouncement}), for {@link #start}. Read once, where the job is
     * built, so every subtask starts from the same bytes. A model that was published but never
     * announced is left out, with a warning.
     */
    public static List<byte[]> recordedAnnouncements(
            RegistryReader registry, Set<String> servedModels) throws IOException {
        List<byte[]> recorded = new ArrayList<>();
        for (String name : registry.models()) {
            if (!servedModels.isEmpty() && !servedModels.contains(name)) {
                continue;
            }
            Optional<byte[]> announcement = registry.recordedAnnouncement(name);
            if (announcement.isPresent()) {
                recorded.add(announcement.get());
            } else {
                LOG.warn(
                        "{} has versions {} in the registry but none was ever announced: not"
                                + " serving it (announce one; announce --registry-only needs no"
                                + " broker)",
                        name,
                        registry.versions(name));
            }
        }
        return recorded;
    }

    /** The models serving right now, by name; read-only. */
    public Map<String, LoadedModel> serving() {
        return Collections.unmodifiableMap(serving);
    }

    /**
     * The trial versions loaded here, by model; a model none of whose trials has loaded is left
     * out. Built on each call, on the caller's thread.
     */
    public Map<String, LoadedTrials> trials() {
        Map<String, LoadedTrials> trials = new HashMap<>();
        for (String name : serving.keySet()) {
            LoadedModel shadow = onTrial.get(TrialKind.SHADOW).get(name);
            LoadedModel canary = onTrial.get(TrialKind.CANARY).get(name);
            AcceptedVersion record = accepted.get(name);
            if ((shadow != null || canary != null) && record != null) {
                Trial canaryTrial = record.canary();
                trials.put(
                        name,
                        new LoadedTrials(
                                shadow, canary, canaryTrial == null ? 0 : canaryTrial.percent()));
            }
        }
        return trials;
    }

    /** The version of {@code model} on that trial here; empty when none is loaded. Any thread. */
    public OptionalLong trialVersion(String model, TrialKind kind) {
        LoadedModel loaded = onTrial.get(kind).get(model);
        return loaded == null ? OptionalLong.empty() : OptionalLong.of(loaded.version());
    }

    /** The version of {@code model} serving now; empty when none does. Safe from any thread. */
    public OptionalLong servingVersion(String model) {
        LoadedModel loaded = serving.get(model);
        return loaded == null ? OptionalLong.empty() : OptionalLong.of(loaded.version());
    }

    /**
     * Whether this subtask serves another version of {@code model} than the recorded one, or none,
     * because the recorded one has not loaded (yet). Safe from any thread.
     */
    public boolean servingBehind(String model) {
        AcceptedVersion wanted = accepted.get(model);
        if (wanted == null || wanted.retired()) {
            return false;
        }
        LoadedModel loaded = serving.get(model);
        return loaded == null || loaded.version() != wanted.version();
    }

    /** The last accepted announcement per model, as broadcast state records it; read-only. */
    public Map<String, AcceptedVersion> accepted() {
        return Collections.unmodifiableMap(new TreeMap<>(accepted));
    }

    /** Tries of loading a version that are running or queued. */
    public int pendingLoads() {
        return pendingLoads.get();
    }

    /**
     * Whether a load is running, queued, or waiting to be retried: poll {@link
     * #applyFinishedLoads}.
     */
    public boolean loading() {
        return pendingLoads.get() > 0 || waitingRetries.get() > 0;
    }

    /**
     * Restore: serve what the state recorded, loading it before this returns (the caller's first
     * records are answered by it); a version that does not load is retried in the background, and
     * an earlier one serves meanwhile where one loads.
     */
    public void restore(Map<String, AcceptedVersion> state) {
        accepted.putAll(state);
        loadAccepted();
        LOG.info("Restored {}; serving {}", accepted, serving.values());
    }

    /**
     * Fresh start: obey {@code recorded} (see {@link #recordedAnnouncements}) as announcements that
     * arrived in that order, checked like any other, then load as {@link #restore} does. A model
     * that was published but never announced does not serve, nor does a retired one.
     *
     * @return the accepted announcements, for the caller to record in broadcast state
     */
    public Map<String, AcceptedVersion> start(List<byte[]> recorded) {
        for (byte[] bytes : recorded) {
            ModelAnnouncement announcement;
            try {
                announcement = codec.decode(bytes);
            } catch (RecordDecodingException | RuntimeException e) {
                refuse("?", "an announcement the registry recorded", e);
                continue;
            }
            decide(announcement);
        }
        loadAccepted();
        LOG.info("Started from the registry's announcements; serving {}", serving.values());
        return accepted();
    }

    /**
     * Checks an announcement and, when it passes, acts on it: a retirement or the end of a trial at
     * once, an activation, roll back or trial by loading the version in the background (an
     * activation of the version on trial here serves its loaded copy at once).
     *
     * @return the new record for broadcast state; empty when the announcement was refused or
     *     ignored
     */
    public Optional<AcceptedVersion> onAnnouncement(ModelAnnouncement announcement) {
        Optional<AcceptedVersion> next = decide(announcement);
        if (next.isEmpty()) {
            return next;
        }
        String name = announcement.getName();
        AcceptedVersion record = next.get();
        switch (announcement.getAction()) {
            case ACTIVATE, ROLL_BACK -> {
                if (!promote(name, record)) {
                    submit(Attempt.serving(name, record, !serving.containsKey(name)));
                }
            }
            case SHADOW -> submit(Attempt.trial(name, TrialKind.SHADOW, record));
            case CANARY -> submit(Attempt.trial(name, TrialKind.CANARY, record));
            default -> {}
        }
        endTrialsNotIn(name, record);
        return next;
    }

    /**
     * Serves the loaded trial copy of the version {@code record} now serves, if there is one.
     *
     * @return whether one was found
     */
    private boolean promote(String name, AcceptedVersion record) {
        for (TrialKind kind : TrialKind.values()) {
            LoadedModel candidate = onTrial.get(kind).get(name);
            if (candidate != null
                    && candidate.version() == record.version()
                    && record.manifestSha256().equals(candidate.manifestSha256())) {
                onTrial.get(kind).remove(name);
                serve(candidate);
                return true;
            }
        }
        return false;
    }

    /** Closes the trial versions loaded for {@code name} that {@code record} no longer names. */
    private void endTrialsNotIn(String name, AcceptedVersion record) {
        for (TrialKind kind : TrialKind.values()) {
            LoadedModel loaded = onTrial.get(kind).get(name);
            Trial wanted = record.retired() ? null : record.trial(kind);
            if (loaded != null
                    && (wanted == null
                            || wanted.version() != loaded.version()
                            || !wanted.manifestSha256().equals(loaded.manifestSha256()))) {
                onTrial.get(kind).remove(name);
                loaded.close();
                LOG.info("Ended the {} trial of {} v{}", kind, name, loaded.version());
            }
        }
    }

    /**
     * The decision every subtask makes alike, from the announcement and the records alone: no
     * registry read, nothing local. A retirement takes effect here.
     */
    private Optional<AcceptedVersion> decide(ModelAnnouncement announcement) {
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
        AcceptedVersion last = accepted.get(name);
        if (last != null && last.sameAnnouncement(announcedAt, announcement.getVersion(), action)) {
            // The same announcement again: recorded in the registry and sent to the topic too.
            LOG.debug("Ignoring {}: already accepted", what);
            return Optional.empty();
        }
        if (last != null && announcedAt <= last.announcedAtMillis()) {
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
                            + Instant.ofEpochMilli(last.announcedAtMillis())
                            + "): a replay or out of order");
        }
        switch (action) {
            case RETIRE:
                return Optional.of(retire(name, announcement.getVersion(), announcedAt));
            case ACTIVATE:
                if (last != null
                        && !last.retired()
                        && announcement.getVersion() <= last.version()) {
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
            case SHADOW:
            case CANARY:
                return beginTrial(announcement, last, what);
            case STOP_SHADOW:
            case STOP_CANARY:
                TrialKind kind =
                        action == ModelAction.STOP_SHADOW ? TrialKind.SHADOW : TrialKind.CANARY;
                if (last == null || last.retired() || last.trial(kind) == null) {
                    LOG.info("Ignoring {}: {} has no {} trial", what, name, kind);
                    return Optional.empty();
                }
                AcceptedVersion stopped = last.withTrial(kind, null, announcedAt);
                accepted.put(name, stopped);
                LOG.info("Accepted {}: {}", what, stopped);
                return Optional.of(stopped);
            default:
                LOG.warn("Ignoring {}: the action is unknown to this job", what);
                return Optional.empty();
        }
        try {
            // From the announcement and the job's configuration alone: the same on every subtask.
            Registries.requireInRegistry(loader.registry(), announcement);
        } catch (BundleException e) {
            return refuse(name, what + ": " + e.getMessage());
        }
        AcceptedVersion next =
                AcceptedVersion.after(
                        last,
                        announcement.getVersion(),
                        announcement.getManifestSha256(),
                        announcedAt);
        accepted.put(name, next);
        LOG.info("Accepted {}", what);
        return Optional.of(next);
    }

    /** Decides a SHADOW or CANARY announcement; the checks before the action's are done. */
    private Optional<AcceptedVersion> beginTrial(
            ModelAnnouncement announcement, AcceptedVersion last, String what) {
        String name = announcement.getName();
        boolean canary = announcement.getAction() == ModelAction.CANARY;
        if (last == null || last.retired()) {
            return refuse(
                    name,
                    what
                            + ": nothing serves "
                            + name
                            + ", and a trial runs beside a serving version (activate one first)");
        }
        if (announcement.getVersion() == last.version()) {
            return refuse(name, what + ": v" + last.version() + " is the serving version");
        }
        Double percent = announcement.getCanaryPercent();
        if (canary && (percent == null || !(percent > 0 && percent <= 100))) {
            return refuse(
                    name,
                    what
                            + " gives canaryPercent "
                            + percent
                            + "; a canary needs a share above 0 and at most 100");
        }
        try {
            Registries.requireInRegistry(loader.registry(), announcement);
        } catch (BundleException e) {
            return refuse(name, what + ": " + e.getMessage());
        }
        AcceptedVersion next =
                last.withTrial(
                        canary ? TrialKind.CANARY : TrialKind.SHADOW,
                        new Trial(
                                announcement.getVersion(),
                                announcement.getManifestSha256(),
                                canary ? percent : 0),
                        announcement.getAnnouncedAt().toEpochMilli());
        accepted.put(name, next);
        LOG.info("Accepted {}: {}", what, next);
        return Optional.of(next);
    }

    private AcceptedVersion retire(String name, long version, long announcedAt) {
        AcceptedVersion retired = AcceptedVersion.retired(version, announcedAt);
        accepted.put(name, retired);
        LoadedModel model = serving.remove(name);
        if (model != null) {
            model.close();
        }
        endTrialsNotIn(name, retired);
        events.retired(name);
        LOG.info("Retired {} (was {})", name, model);
        return retired;
    }

    /** Loads every recorded version on the caller's thread (start and restore). */
    private void loadAccepted() {
        new TreeMap<>(accepted)
                .forEach(
                        (name, wanted) -> {
                            if (!wanted.retired() && serves(name)) {
                                apply(attempt(Attempt.serving(name, wanted, true)));
                                for (TrialKind kind : TrialKind.values()) {
                                    if (wanted.trial(kind) != null) {
                                        apply(attempt(Attempt.trial(name, kind, wanted)));
                                    }
                                }
                            }
                        });
    }

    private void submit(Attempt attempt) {
        pendingLoads.incrementAndGet();
        loads.execute(() -> finished.add(attempt(attempt)));
    }

    /** One try; on the loader thread, or on the caller's at start. Never throws. */
    private Outcome attempt(Attempt attempt) {
        try {
            ModelBundle bundle =
                    loader.verify(attempt.name(), attempt.version(), attempt.manifestSha256());
            return new Outcome(attempt, loader.load(bundle), null);
        } catch (Exception e) {
            return new Outcome(attempt, attempt.fallBack() ? loadEarlier(attempt) : null, e);
        }
    }

    /** The newest earlier version of the record that loads, or null. */
    private LoadedModel loadEarlier(Attempt attempt) {
        AcceptedVersion wanted = attempt.wanted();
        for (AcceptedVersion.Earlier earlier : wanted.earlier()) {
            long version = earlier.version();
            try {
                return loader.load(
                        loader.verify(attempt.name(), version, earlier.manifestSha256()));
            } catch (Exception e) {
                LOG.warn(
                        "{} v{}, kept to fall back on, does not load either: {}",
                        attempt.name(),
                        version,
                        e.getMessage());
            }
        }
        return null;
    }

    /** Swaps in the versions whose loads finished; call it on the thread that reads serving. */
    public void applyFinishedLoads() {
        for (Outcome outcome; (outcome = finished.poll()) != null; ) {
            pendingLoads.decrementAndGet();
            apply(outcome);
        }
    }

    private void apply(Outcome outcome) {
        Attempt attempt = outcome.attempt();
        String name = attempt.name();
        if (!attempt.stillWanted(accepted.get(name))) {
            closeQuietly(outcome.model()); // superseded while it loaded
            return;
        }
        if (attempt.trial() != null) {
            applyTrial(outcome);
            return;
        }
        if (outcome.failure() == null) {
            serve(outcome.model());
            return;
        }
        if (outcome.model() != null && !serving.containsKey(name)) {
            serve(outcome.model());
        } else {
            closeQuietly(outcome.model());
        }
        LoadedModel current = serving.get(name);
        Duration delay = retryDelay(attempt.failures());
        refuse(
                name,
                attempt
                        + " does not load (try "
                        + (attempt.failures() + 1)
                        + "); "
                        + (current == null
                                ? "nothing serves " + name
                                : "v" + current.version() + " serves meanwhile")
                        + "; trying again in "
                        + delay.toSeconds()
                        + " s",
                outcome.failure());
        retryLater(attempt, delay);
    }

    private void applyTrial(Outcome outcome) {
        Attempt attempt = outcome.attempt();
        String name = attempt.name();
        Map<String, LoadedModel> trials = onTrial.get(attempt.trial());
        if (outcome.failure() == null) {
            LoadedModel previous = trials.put(name, outcome.model());
            closeQuietly(previous);
            LOG.info(
                    "{} is on {} trial beside {}",
                    outcome.model(),
                    attempt.trial(),
                    serving.get(name));
            return;
        }
        Duration delay = retryDelay(attempt.failures());
        refuse(
                name,
                attempt
                        + " does not load (try "
                        + (attempt.failures() + 1)
                        + "); the serving version answers alone; trying again in "
                        + delay.toSeconds()
                        + " s",
                outcome.failure());
        retryLater(attempt, delay);
    }

    private void retryLater(Attempt attempt, Duration delay) {
        String name = attempt.name();
        waitingRetries.incrementAndGet();
        loads.schedule(
                () -> {
                    waitingRetries.decrementAndGet();
                    if (attempt.stillWanted(accepted.get(name))) {
                        submit(attempt.retry(!serving.containsKey(name)));
                    }
                },
                delay.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    static Duration retryDelay(int failures) {
        Duration delay = FIRST_RETRY.multipliedBy(1L << Math.min(failures, 20));
        return delay.compareTo(LAST_RETRY) > 0 ? LAST_RETRY : delay;
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

    private Optional<AcceptedVersion> refuse(String name, String reason) {
        LOG.error("Refused {}", reason);
        events.refused(name, reason);
        return Optional.empty();
    }

    private void refuse(String name, String what, Exception e) {
        String reason = what + ": " + e.getMessage();
        // Bundle problems are expected and their message says it all; anything else is a bug
        // or an environment failure whose stack trace the operator needs.
        if (e instanceof IOException) {
            LOG.error("Refused {}", reason);
        } else {
            LOG.error("Refused {}", reason, e);
        }
        events.refused(name, reason);
    }

    private static void closeQuietly(LoadedModel model) {
        if (model != null) {
            model.close();
        }
    }

    /** Stops loading and releases every serving model. */
    @Override
    public void close() throws InterruptedException {
        loads.shutdownNow();
        loads.awaitTermination(30, TimeUnit.SECONDS);
        for (Outcome outcome; (outcome = finished.poll()) != null; ) {
            closeQuietly(outcome.model());
        }
        List.copyOf(serving.values()).forEach(LoadedModel::close);
        serving.clear();
        for (Map<String, LoadedModel> trials : onTrial.values()) {
            List.copyOf(trials.values()).forEach(LoadedModel::close);
            trials.clear();
        }
    }
}
