package dev.sift.trainer.corpus;

import dev.sift.model.bundle.Directories;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A package from the Debian archive, fetched once into a cache folder with {@code apt-get download}
 * (no installation, no root needed) and unpacked with {@code dpkg-deb -x}: how Sift gets data that
 * Debian ships (the Reuters subsets in {@code weka}) without a download client of its own.
 *
 * <p>{@code dpkg-deb} rather than unpacking in Java (as {@link NpmPackage} does with
 * commons-compress): a {@code .deb}'s data member may be xz, zstd or gzip compressed, and beyond
 * gzip commons-compress needs another library for each (xz for xz; zstd-jni, with natives, or
 * aircompressor for zstd), while {@code dpkg-deb} reads them all and is present wherever {@code
 * apt-get} is, which also resolves the package's mirror and version. Both tools are looked up on
 * the {@code PATH} given, so a missing one is named in the error instead of surfacing as "Cannot
 * run program".
 */
public final class DebianPackage {

    private static final Logger LOG = LoggerFactory.getLogger(DebianPackage.class);

    private final String searchPath;

    /**
     * @param searchPath folders to find {@code apt-get} and {@code dpkg-deb} in, as in $PATH
     */
    public DebianPackage(String searchPath) {
        this.searchPath = searchPath == null ? "" : searchPath;
    }

    /** Looks the tools up on this process's {@code PATH}. */
    public static DebianPackage onPath() {
        return new DebianPackage(System.getenv("PATH"));
    }

    /**
     * Returns the folder {@code name}'s {@code .deb} is unpacked into under {@code folder}: {@code
     * folder/unpacked}, fetched and unpacked the first time.
     */
    public Path fetch(Path folder, String name) throws IOException, InterruptedException {
        Path unpacked = folder.resolve("unpacked");
        if (Files.isDirectory(unpacked)) {
            return unpacked;
        }
        Files.createDirectories(folder);
        Optional<Path> deb = findDeb(folder, name);
        if (deb.isEmpty()) {
            Path aptGet = tool("apt-get", "fetching " + name);
            LOG.info("Fetching {} with apt-get download into {}", name, folder);
            run(folder, aptGet.toString(), "download", name);
            deb = findDeb(folder, name);
            if (deb.isEmpty()) {
                throw new IOException("apt-get download " + name + " wrote no .deb in " + folder);
            }
        }
        return unpack(deb.get(), unpacked);
    }

    /**
     * Unpacks {@code deb} into {@code target} with {@code dpkg-deb -x}, unless {@code target}
     * exists. The files go to a sibling folder first and are moved in place when complete, so an
     * interrupted run never leaves a partial {@code target} behind.
     */
    public Path unpack(Path deb, Path target) throws IOException, InterruptedException {
        if (Files.isDirectory(target)) {
            return target;
        }
        Path dpkgDeb = tool("dpkg-deb", "unpacking " + deb.getFileName());
        Path partial = target.resolveSibling(target.getFileName() + ".partial");
        Directories.deleteRecursively(partial);
        Files.createDirectories(partial);
        run(
                partial,
                dpkgDeb.toString(),
                "-x",
                deb.toAbsolutePath().toString(),
                partial.toAbsolutePath().toString());
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }

    private static Optional<Path> findDeb(Path folder, String name) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(f -> f.getFileName().toString().startsWith(name + "_"))
                    .filter(f -> f.getFileName().toString().endsWith(".deb"))
                    .sorted()
                    .reduce((first, second) -> second);
        }
    }

    /** The executable {@code tool} on the search path, or an error that says what to do. */
    Path tool(String tool, String what) throws IOException {
        for (String dir : searchPath.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, tool);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new MissingToolException(tool, what);
    }

    /** {@code apt-get} or {@code dpkg-deb} is not installed. */
    public static final class MissingToolException extends IOException {
        private static final long serialVersionUID = 1L;

        MissingToolException(String tool, String what) {
            super(
                    tool
                            + " is not on the PATH, and "
                            + what
                            + " needs it. On Debian or Ubuntu it comes with the 'apt' and 'dpkg'"
                            + " packages; elsewhere, get the files another way and give their"
                            + " path with --from.");
        }
    }

    private static void run(Path dir, String... command) throws IOException, InterruptedException {
        Process process =
                new ProcessBuilder(List.of(command))
                        .directory(dir.toFile())
                        .redirectErrorStream(true)
                        .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output.strip());
        }
    }
}
