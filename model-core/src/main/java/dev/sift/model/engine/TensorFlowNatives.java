package dev.sift.model.engine;

import dev.sift.model.SiftHome;
import dev.sift.model.bundle.Directories;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes TensorFlow's shared libraries available to DJL without any download.
 *
 * <p>DJL's TensorFlow engine downloads its natives unless {@code TENSORFLOW_LIBRARY_PATH} names a
 * folder holding them, and these machines reach no download host. The libraries ship on Maven
 * Central inside {@code org.tensorflow:tensorflow-core-native:<version>:<platform>}; this class
 * extracts them from the classpath into {@code <sift.home>/natives/<version>-<platform>} once and
 * points DJL there. Extraction happens under an exclusive file lock into a temporary folder that is
 * renamed into place, so several slots or JVMs starting together neither race nor see half a copy.
 *
 * <p>An operator who installed the libraries already (a Flink cluster's {@code lib/} folder, for
 * instance) sets {@code TENSORFLOW_LIBRARY_PATH} and nothing is extracted.
 */
public final class TensorFlowNatives {

    public static final String LIBRARY_PATH = "TENSORFLOW_LIBRARY_PATH";
    static final String JNI_LIBRARY = "libjnitensorflow.so";
    static final List<String> LIBRARIES =
            List.of(JNI_LIBRARY, "libtensorflow_cc.so.2", "libtensorflow_framework.so.2");
    private static final String RESOURCE_ROOT = "org/tensorflow/internal/c_api/";
    private static final String POM_PROPERTIES =
            "META-INF/maven/org.tensorflow/tensorflow-core-native/pom.properties";
    private static final String COMPLETE_MARKER = ".complete";
    private static final Logger LOG = LoggerFactory.getLogger(TensorFlowNatives.class);

    private static Path prepared;

    private TensorFlowNatives() {}

    /**
     * Ensures the natives are on disk and DJL will load them from there; returns their folder.
     * Idempotent and thread-safe. Must run before DJL's TensorFlow engine first loads.
     */
    public static synchronized Path prepare() {
        if (prepared != null) {
            return prepared;
        }
        // Never let DJL reach for the network, whatever else is configured.
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        Path configured = configuredFolder();
        if (configured != null) {
            requireLibraries(configured, LIBRARY_PATH + "=" + configured);
            prepared = configured;
            return prepared;
        }
        ClassLoader loader = loader();
        String platform = findPlatform(loader);
        Path folder = SiftHome.dir().resolve("natives").resolve(nativesVersion() + "-" + platform);
        try {
            extractOnce(loader, platform, folder);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "Cannot extract TensorFlow's natives to " + folder + ": " + e.getMessage(), e);
        }
        System.setProperty(LIBRARY_PATH, folder.toString());
        // JavaCPP would otherwise extract the same 600 MB again from the classpath jar into its own
        // cache; with pathsFirst it loads from the folder DJL hands it as the preload path.
        System.setProperty("org.bytedeco.javacpp.pathsFirst", "true");
        prepared = folder;
        return prepared;
    }

    /** As DJL reads it: the environment variable wins over the system property. */
    private static Path configuredFolder() {
        String value = System.getenv(LIBRARY_PATH);
        if (value == null || value.isBlank()) {
            value = System.getProperty(LIBRARY_PATH);
        }
        return value == null || value.isBlank() ? null : Path.of(value);
    }

    /** The GPU build wins when both are on the classpath: DJL falls back to the CPU by itself. */
    static String findPlatform(ClassLoader loader) {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String base =
                (os.contains("linux") ? "linux" : os.contains("mac") ? "macosx" : "windows")
                        + (arch.equals("amd64") || arch.equals("x86_64") ? "-x86_64" : "-arm64");
        for (String platform : List.of(base + "-gpu", base)) {
            if (loader.getResource(RESOURCE_ROOT + platform + "/" + JNI_LIBRARY) != null) {
                return platform;
            }
        }
        throw new IllegalStateException(
                "TensorFlow's native libraries are not on the classpath: expected "
                        + RESOURCE_ROOT
                        + base
                        + "/"
                        + JNI_LIBRARY
                        + " from the jar org.tensorflow:tensorflow-core-native:<version>:"
                        + base
                        + " (classifier "
                        + base
                        + "-gpu for CUDA). Add that dependency, or set "
                        + LIBRARY_PATH
                        + " to a folder holding "
                        + String.join(", ", LIBRARIES)
                        + ".");
    }

    static void extractOnce(ClassLoader loader, String platform, Path folder) throws IOException {
        if (Files.exists(folder.resolve(COMPLETE_MARKER))) {
            return;
        }
        Path parent = Files.createDirectories(folder.getParent());
        Path lockFile = parent.resolve(folder.getFileName() + ".lock");
        try (FileChannel channel =
                        FileChannel.open(
                                lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock ignored = channel.lock()) {
            if (Files.exists(folder.resolve(COMPLETE_MARKER))) {
                return; // another JVM finished while we waited for the lock
            }
            LOG.info("Extracting TensorFlow natives ({}) to {}", platform, folder);
            Path staging = Files.createTempDirectory(parent, folder.getFileName() + ".tmp");
            for (String library : LIBRARIES) {
                try (InputStream in = resourceStream(loader, platform, library)) {
                    Files.copy(in, staging.resolve(library));
                }
            }
            Files.createFile(staging.resolve(COMPLETE_MARKER));
            Directories.deleteRecursively(
                    folder); // a folder without the marker is a crashed extraction
            try {
                Files.move(staging, folder, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
                Directories.deleteRecursively(staging);
                throw e;
            }
        }
    }

    private static InputStream resourceStream(ClassLoader loader, String platform, String library)
            throws IOException {
        InputStream in = loader.getResourceAsStream(RESOURCE_ROOT + platform + "/" + library);
        if (in == null) {
            throw new IOException(
                    "The natives jar for " + platform + " lacks " + library + "; is it complete?");
        }
        return in;
    }

    private static String nativesVersion() {
        try (InputStream in = loader().getResourceAsStream(POM_PROPERTIES)) {
            if (in != null) {
                Properties properties = new Properties();
                properties.load(in);
                return "tensorflow-" + properties.getProperty("version", "unknown");
            }
        } catch (IOException e) {
            LOG.debug("Cannot read {}", POM_PROPERTIES, e);
        }
        return "tensorflow-unknown";
    }

    static void requireLibraries(Path folder, String origin) {
        for (String library : LIBRARIES) {
            if (!Files.isRegularFile(folder.resolve(library))) {
                throw new IllegalStateException(
                        origin
                                + " lacks "
                                + library
                                + "; it must hold "
                                + String.join(", ", LIBRARIES));
            }
        }
    }

    private static ClassLoader loader() {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        return context != null ? context : TensorFlowNatives.class.getClassLoader();
    }
}
