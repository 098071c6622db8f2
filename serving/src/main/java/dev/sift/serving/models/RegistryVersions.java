package dev.sift.serving.models;

import dev.sift.model.bundle.BundleException;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.RegistryReader;
import dev.sift.schemas.AnnouncementSignatures;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.schemas.RecordCodec;
import dev.sift.schemas.RecordDecodingException;
import java.io.IOException;
import java.security.PublicKey;
import java.util.List;
import java.util.Locale;

/**
 * Which version of a model a caller outside the stream serves: the one the registry's recorded
 * announcement names ({@code announced}, what a fresh job would serve), the newest published
 * ({@code latest}), or a number. The SQL provider's {@code 'version'} option and the trainer's
 * {@code predict} and {@code evaluate} take the same words.
 */
public final class RegistryVersions {

    /** The words a version choice may be, besides a number. */
    public static final String ANNOUNCED = "announced";

    public static final String LATEST = "latest";

    private static final RecordCodec<ModelAnnouncement> ANNOUNCEMENTS =
            RecordCodec.of(ModelAnnouncement.class);

    private RegistryVersions() {}

    /**
     * Opens and verifies the version {@code choice} names now. An announced version is also held to
     * the manifest hash its announcement carries.
     *
     * @param key the announcements' public key, or null to accept unsigned ones
     * @param names how the caller's user gives the key and the version, for messages
     */
    public static ModelBundle open(
            ModelLoader loader, String model, String choice, PublicKey key, OptionNames names)
            throws IOException {
        String word = choice.trim().toLowerCase(Locale.ROOT);
        if (word.equals(ANNOUNCED)) {
            ModelAnnouncement announced = announced(loader.registry(), model, key, names);
            if (announced.getAction() == ModelAction.RETIRE) {
                throw new BundleException(
                        "Model '"
                                + model
                                + "' was retired (announced "
                                + announced.getAnnouncedAt()
                                + "): nothing serves it until a version is announced");
            }
            return loader.verify(model, announced.getVersion(), announced.getManifestSha256());
        }
        long version = word.equals(LATEST) ? newest(loader.registry(), model) : number(choice);
        return loader.registry().open(model, version);
    }

    /** The registry's newest version of {@code model}. */
    public static long newest(RegistryReader registry, String model) throws IOException {
        List<Long> versions = registry.versions(model);
        if (versions.isEmpty()) {
            throw new BundleException(
                    "Model '"
                            + model
                            + "' has no version in the registry at "
                            + registry.location());
        }
        return versions.get(versions.size() - 1);
    }

    /**
     * How the caller's user names the public key and the version choice: {@code 'public-key'} and
     * {@code 'version'} in SQL, {@code --public-key} and {@code --version} on a command line.
     */
    public record OptionNames(String key, String version) {}

    /**
     * The announcement the registry recorded for {@code model}, decoded, and its signature checked
     * where {@code key} is given.
     */
    public static ModelAnnouncement announced(
            RegistryReader registry, String model, PublicKey key, OptionNames names)
            throws IOException {
        byte[] bytes =
                registry.recordedAnnouncement(model)
                        .orElseThrow(
                                () ->
                                        new BundleException(
                                                "Model '"
                                                        + model
                                                        + "' was never announced in the registry"
                                                        + " at "
                                                        + registry.location()
                                                        + ": announce a version ('sift-trainer"
                                                        + " announce'; --registry-only needs no"
                                                        + " broker), or set "
                                                        + names.version()
                                                        + " to '"
                                                        + LATEST
                                                        + "' or a number"));
        ModelAnnouncement announcement;
        try {
            announcement = ANNOUNCEMENTS.decode(bytes);
        } catch (RecordDecodingException e) {
            throw new BundleException(
                    "The announcement recorded for '"
                            + model
                            + "' is unreadable: "
                            + e.getMessage());
        }
        if (!announcement.getName().equals(model)) {
            throw new BundleException(
                    "The announcement recorded for '"
                            + model
                            + "' names '"
                            + announcement.getName()
                            + "'");
        }
        if (key != null && !AnnouncementSignatures.verify(announcement, key)) {
            throw new BundleException(
                    "The announcement recorded for '"
                            + model
                            + "' (v"
                            + announcement.getVersion()
                            + ") "
                            + (announcement.getSignature() == null
                                    ? "is unsigned, and " + names.key() + " requires signatures"
                                    : "has a signature that does not verify with " + names.key()));
        }
        return announcement;
    }

    private static long number(String choice) {
        try {
            long version = Long.parseLong(choice.trim());
            if (version >= 1) {
                return version;
            }
        } catch (NumberFormatException e) {
            // falls through to the message below
        }
        throw new IllegalArgumentException(
                "A version is '"
                        + ANNOUNCED
                        + "', '"
                        + LATEST
                        + "' or a number from 1, not '"
                        + choice
                        + "'");
    }
}
