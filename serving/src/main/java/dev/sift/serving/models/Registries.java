package dev.sift.serving.models;

import dev.sift.model.SiftHome;
import dev.sift.model.bundle.BundleException;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.registry.RegistryReader;
import dev.sift.schemas.ModelAnnouncement;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Opens the registry {@code sift.registry} names, and checks that announcements point into it.
 *
 * <p>A path or a {@code file:} URI is read in place ({@link ModelRegistry}: no copy of a 400 MB
 * encoder, and symbolic links are checked). Any other scheme ({@code s3://}, {@code hdfs://}, ...)
 * is read through Flink's filesystems ({@link FlinkFileSystemRegistry}), with encoders cached under
 * {@code <sift home>/registry-cache} on the TaskManager's local disk.
 */
public final class Registries {

    private Registries() {}

    public static RegistryReader open(String location) {
        URI uri = uri(location);
        if (uri == null) {
            return ModelRegistry.at(Path.of(location));
        }
        if (uri.getScheme().equals("file")) {
            return ModelRegistry.at(Path.of(uri));
        }
        if (!flinkOnClasspath()) {
            throw new IllegalArgumentException(
                    "Registry "
                            + location
                            + ": a "
                            + uri.getScheme()
                            + ":// registry is read through Flink's filesystems, which only the"
                            + " job and the SQL provider have; give a local path or file: URI");
        }
        return new FlinkFileSystemRegistry(uri, SiftHome.dir().resolve("registry-cache"));
    }

    /**
     * Flink is {@code provided} here: present in the job and SQL, absent from the trainer's CLI.
     */
    private static boolean flinkOnClasspath() {
        try {
            Class.forName(
                    "org.apache.flink.core.fs.FileSystem",
                    false,
                    Registries.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /**
     * Refuses an announcement whose {@code bundleUri} is not the folder of the announced version in
     * {@code registry}. The job reads versions from its configured registry only: an announcement
     * (which anyone who may write the topic can send, signed or not) must not point the job at
     * other storage. The check also catches a publisher and a job that disagree on the registry,
     * which would otherwise show up as a missing version or a manifest hash mismatch.
     */
    public static void requireInRegistry(RegistryReader registry, ModelAnnouncement announcement)
            throws BundleException {
        URI expected = registry.versionUri(announcement.getName(), announcement.getVersion());
        String announced = announcement.getBundleUri();
        URI given = announced == null ? null : normalized(announced);
        if (given == null || !comparable(given).equals(comparable(expected))) {
            throw new BundleException(
                    "bundleUri "
                            + announced
                            + " is not "
                            + announcement.getName()
                            + " v"
                            + announcement.getVersion()
                            + " in this job's registry ("
                            + expected
                            + ")");
        }
    }

    /** Paths and file: URIs as absolute, normalized file: URIs; other URIs normalized. */
    private static URI normalized(String location) {
        URI uri = uri(location);
        try {
            if (uri == null) {
                return Path.of(location).toAbsolutePath().normalize().toUri();
            }
            if (uri.getScheme().equals("file")) {
                return Path.of(uri).normalize().toUri();
            }
            return uri.normalize();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String comparable(URI uri) {
        String text = uri.toString();
        while (text.endsWith("/")) {
            text = text.substring(0, text.length() - 1);
        }
        return text;
    }

    /** The location as a URI with a scheme, or null for a plain path. */
    private static URI uri(String location) {
        try {
            URI uri = new URI(location);
            // A one-letter scheme is a Windows drive ("C:\registry"), not a URI.
            if (uri.getScheme() == null || uri.getScheme().length() < 2) {
                return null;
            }
            return new URI(
                    uri.getScheme().toLowerCase(Locale.ROOT),
                    uri.getSchemeSpecificPart(),
                    uri.getFragment());
        } catch (URISyntaxException e) {
            return null;
        }
    }
}
