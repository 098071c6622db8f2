package dev.sift.trainer.corpus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.sift.trainer.data.Example;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReutersCorpusTest {

    static final Path TINY = Path.of("src/test/resources/reuters");

    @TempDir Path dir;

    @Test
    void cornWinsOverGrainAndStoriesWithNeitherAreOther() {
        assertThat(ReutersCorpus.label(true, true)).isEqualTo("corn");
        assertThat(ReutersCorpus.label(true, false)).isEqualTo("corn");
        assertThat(ReutersCorpus.label(false, true)).isEqualTo("grain");
        assertThat(ReutersCorpus.label(false, false)).isEqualTo("other");
    }

    @Test
    void joinsTheTwoSubsetsAndKeepsTheSplit() throws Exception {
        ReutersCorpus.Imported topics = ReutersCorpus.read(TINY);

        assertThat(topics.train())
                .extracting(Example::label)
                .containsExactly("corn", "grain", "other", "corn");
        assertThat(topics.train().get(1).text())
                .isEqualTo("WHEAT TENDER Egypt's wheat tender drew \"strong\" offers.");
        assertThat(topics.train().get(3).attributes())
                .isEqualTo(Map.of("id", "train-4", "split", "train", "corn", "1", "grain", "0"));
        // The test split: the grain file is gzipped, and one row is sparse.
        assertThat(topics.test()).extracting(Example::label).containsExactly("grain", "corn");
        assertThat(topics.test()).allMatch(e -> e.attributes().get("split").equals("test"));
    }

    @Test
    void subsetsThatHoldDifferentStoriesAreRefused() throws Exception {
        copyTiny(dir);
        Path grain = dir.resolve("ReutersGrain-train.arff");
        Files.writeString(grain, Files.readString(grain).replace("MAIZE ONLY", "SOMETHING ELSE"));

        assertThatThrownBy(() -> ReutersCorpus.read(dir))
                .hasMessageContaining("ReutersCorn-train and ReutersGrain-train differ at story 4");
    }

    @Test
    void aMissingFileIsNamed() throws Exception {
        copyTiny(dir);
        Files.delete(dir.resolve("ReutersCorn-test.arff"));

        assertThatThrownBy(() -> ReutersCorpus.read(dir))
                .hasMessageContaining("has no ReutersCorn-test.arff (or .arff.gz)");
    }

    @Test
    void fromTakesAFolderOfArffFilesOrAnUnpackedPackage() throws Exception {
        DebianPackage noTools = new DebianPackage(dir.resolve("no-tools").toString());
        assertThat(ReutersCorpus.locate(TINY, dir, noTools)).isEqualTo(TINY);

        Path unpacked = dir.resolve("unpacked");
        copyTiny(Files.createDirectories(unpacked.resolve(ReutersCorpus.EXAMPLES)));
        Path located = ReutersCorpus.locate(unpacked, dir, noTools);

        assertThat(located).isEqualTo(unpacked.resolve(ReutersCorpus.EXAMPLES));
        assertThat(ReutersCorpus.read(located).train()).hasSize(4);
        assertThatThrownBy(
                        () ->
                                ReutersCorpus.locate(
                                        Files.writeString(dir.resolve("x.txt"), "x"), dir, noTools))
                .hasMessageContaining("is neither a folder of Reuters ARFF files nor a weka .deb");
    }

    @Test
    void fromTakesADebUnpackedWithDpkgDeb() throws Exception {
        DebianPackage apt = DebianPackage.onPath();
        assumeThat(hasTool("dpkg-deb")).as("dpkg-deb on the PATH").isTrue();
        Path deb = buildDeb();

        Path located = ReutersCorpus.locate(deb, dir.resolve("cache"), apt);

        assertThat(located)
                .isEqualTo(dir.resolve("cache/weka/weka_0.1_all/" + ReutersCorpus.EXAMPLES));
        assertThat(ReutersCorpus.read(located).test()).hasSize(2);
        assertThat(dir.resolve("cache/weka/weka_0.1_all.partial")).doesNotExist();
    }

    @Test
    void missingToolsAreNamedWithTheWayAround() throws Exception {
        DebianPackage noTools = new DebianPackage(dir.resolve("no-tools").toString());

        assertThatThrownBy(() -> ReutersCorpus.fetch(dir.resolve("cache"), noTools))
                .isInstanceOf(DebianPackage.MissingToolException.class)
                .hasMessageContaining("apt-get is not on the PATH, and fetching weka needs it")
                .hasMessageContaining("--from");
        Path deb = Files.writeString(dir.resolve("weka_1_all.deb"), "not really");
        assertThatThrownBy(() -> ReutersCorpus.locate(deb, dir.resolve("cache"), noTools))
                .isInstanceOf(DebianPackage.MissingToolException.class)
                .hasMessageContaining(
                        "dpkg-deb is not on the PATH, and unpacking weka_1_all.deb needs it");
    }

    /**
     * Runs only where {@code corpus reuters} has fetched the real corpus into its default cache.
     */
    @Test
    void theRealCorpusWhereCached() throws Exception {
        Path examples =
                ReutersCorpus.defaultCache()
                        .resolve("weka/unpacked")
                        .resolve(ReutersCorpus.EXAMPLES);
        assumeThat(examples).as("the weka package in the default cache").isDirectory();

        ReutersCorpus.Imported topics = ReutersCorpus.read(examples);

        assertThat(counts(topics.train()))
                .isEqualTo(Map.of("corn", 45, "grain", 59, "other", 1450));
        assertThat(counts(topics.test())).isEqualTo(Map.of("corn", 24, "grain", 33, "other", 547));
    }

    static void copyTiny(Path target) throws Exception {
        try (var files = Files.list(TINY)) {
            for (Path file : files.toList()) {
                Files.copy(file, target.resolve(file.getFileName()));
            }
        }
    }

    private Path buildDeb() throws Exception {
        Path root = dir.resolve("pkg");
        copyTiny(Files.createDirectories(root.resolve(ReutersCorpus.EXAMPLES)));
        Files.createDirectories(root.resolve("DEBIAN"));
        Files.writeString(
                root.resolve("DEBIAN/control"),
                String.join(
                        "\n",
                        "Package: weka",
                        "Version: 0.1",
                        "Architecture: all",
                        "Maintainer: Sift tests <sift@example.org>",
                        "Description: the Reuters test files in a package",
                        ""));
        Path deb = dir.resolve("weka_0.1_all.deb");
        Process build =
                new ProcessBuilder(
                                "dpkg-deb",
                                "--root-owner-group",
                                "--build",
                                root.toString(),
                                deb.toString())
                        .redirectErrorStream(true)
                        .start();
        String output = new String(build.getInputStream().readAllBytes());
        assertThat(build.waitFor()).as(output).isZero();
        return deb;
    }

    private static boolean hasTool(String tool) {
        for (String folder : System.getenv("PATH").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(folder, tool))) {
                return true;
            }
        }
        return false;
    }

    private static Map<String, Integer> counts(List<Example> examples) {
        Map<String, Integer> counts = new TreeMap<>();
        examples.forEach(e -> counts.merge(e.label(), 1, Integer::sum));
        return counts;
    }
}
