package dev.sift.trainer.corpus;

import dev.sift.model.SiftHome;
import dev.sift.trainer.data.Example;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reuters-21578 newswire stories with topic labels, from the ARFF subsets Debian's {@code weka}
 * package ships ({@code usr/share/doc/weka/examples/Reuters{Corn,Grain}-{train,test}.arff}): 1,554
 * training and 604 test stories of the ModApte split.
 *
 * <p>Each subset is binary (is the story about corn? about grain?) and both hold the same stories
 * in the same order. They are joined into one three-class task: {@code corn} (tagged corn), {@code
 * grain} (tagged grain but not corn) and {@code other} (neither). Corn is a kind of grain in
 * Reuters' topics, so every corn story but one is also tagged grain; that one is labeled {@code
 * corn} too, the more specific tag winning. The corpus' own train/test split is kept.
 *
 * <pre>{@code
 * ReutersCorpus.Imported topics = ReutersCorpus.read(ReutersCorpus.fetch(cache, DebianPackage.onPath()));
 * }</pre>
 */
public final class ReutersCorpus {

    public static final String PACKAGE = "weka";

    /** Where the ARFF files lie inside the package. */
    public static final String EXAMPLES = "usr/share/doc/weka/examples";

    public static final String CORN = "corn";
    public static final String GRAIN = "grain";
    public static final String OTHER = "other";
    public static final List<String> LABELS = List.of(CORN, GRAIN, OTHER);

    private static final String TEXT_ATTRIBUTE = "Text";
    private static final String CLASS_ATTRIBUTE = "class-att";

    /** The corpus' own training and test stories. */
    public record Imported(List<Example> train, List<Example> test) {}

    private ReutersCorpus() {}

    public static Path defaultCache() {
        return SiftHome.dir().resolve("corpora");
    }

    /**
     * Returns the folder holding the ARFF files, running {@code apt-get download weka} and {@code
     * dpkg-deb -x} into {@code cache} the first time.
     */
    public static Path fetch(Path cache, DebianPackage apt)
            throws IOException, InterruptedException {
        return apt.fetch(cache.resolve(PACKAGE), PACKAGE).resolve(EXAMPLES);
    }

    /**
     * Returns the folder holding the ARFF files given a path: a folder with the four files (or with
     * {@code usr/share/doc/weka/examples} inside), or a {@code weka_*.deb}, unpacked with {@code
     * dpkg-deb} into {@code cache}.
     */
    public static Path locate(Path from, Path cache, DebianPackage apt)
            throws IOException, InterruptedException {
        if (Files.isRegularFile(from) && from.getFileName().toString().endsWith(".deb")) {
            String stem = from.getFileName().toString().replaceFirst("\\.deb$", "");
            return apt.unpack(from, cache.resolve(PACKAGE).resolve(stem)).resolve(EXAMPLES);
        }
        if (!Files.isDirectory(from)) {
            throw new IOException(
                    from + " is neither a folder of Reuters ARFF files nor a weka .deb");
        }
        Path nested = from.resolve(EXAMPLES);
        return Files.isDirectory(nested) ? nested : from;
    }

    /** Reads both subsets of both splits from {@code folder} and joins them into topic labels. */
    public static Imported read(Path folder) throws IOException {
        return new Imported(split(folder, "train"), split(folder, "test"));
    }

    /** The topic label of a story from its two binary tags; see the class comment. */
    public static String label(boolean corn, boolean grain) {
        if (corn) {
            return CORN;
        }
        return grain ? GRAIN : OTHER;
    }

    private static List<Example> split(Path folder, String split) throws IOException {
        Arff corn = Arff.read(file(folder, "ReutersCorn-" + split));
        Arff grain = Arff.read(file(folder, "ReutersGrain-" + split));
        if (corn.rows().size() != grain.rows().size()) {
            throw new IOException(
                    "ReutersCorn-"
                            + split
                            + " has "
                            + corn.rows().size()
                            + " stories, ReutersGrain-"
                            + split
                            + " "
                            + grain.rows().size()
                            + "; expected the same stories in both");
        }
        int cornText = corn.attributeIndex(TEXT_ATTRIBUTE);
        int cornClass = corn.attributeIndex(CLASS_ATTRIBUTE);
        int grainText = grain.attributeIndex(TEXT_ATTRIBUTE);
        int grainClass = grain.attributeIndex(CLASS_ATTRIBUTE);
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < corn.rows().size(); i++) {
            String text = corn.rows().get(i).get(cornText);
            if (!Objects.equals(text, grain.rows().get(i).get(grainText))) {
                throw new IOException(
                        "ReutersCorn-"
                                + split
                                + " and ReutersGrain-"
                                + split
                                + " differ at story "
                                + (i + 1)
                                + "; expected the same stories in both");
            }
            if (text == null || text.isBlank()) {
                throw new IOException(
                        "ReutersCorn-" + split + " story " + (i + 1) + " has no text");
            }
            boolean isCorn = "1".equals(corn.rows().get(i).get(cornClass));
            boolean isGrain = "1".equals(grain.rows().get(i).get(grainClass));
            Map<String, String> attributes = new LinkedHashMap<>();
            attributes.put("id", split + "-" + (i + 1));
            attributes.put("split", split);
            attributes.put("corn", isCorn ? "1" : "0");
            attributes.put("grain", isGrain ? "1" : "0");
            examples.add(new Example(text.strip(), null, label(isCorn, isGrain), attributes));
        }
        return examples;
    }

    private static Path file(Path folder, String stem) throws IOException {
        for (String name : List.of(stem + ".arff", stem + ".arff.gz")) {
            Path file = folder.resolve(name);
            if (Files.isRegularFile(file)) {
                return file;
            }
        }
        throw new IOException(
                folder
                        + " has no "
                        + stem
                        + ".arff (or .arff.gz); expected ReutersCorn-{train,test}.arff and"
                        + " ReutersGrain-{train,test}.arff from Debian's weka package");
    }
}
