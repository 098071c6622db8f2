package dev.sift.model.bert;

import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.registry.ModelRegistry;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ImportEncoders <registry>}: imports every small encoder whose jar is on the class path
 * ({@link OnnxEncoderImporter.Known}, int8 and float32) into the registry's encoder store and
 * prints each one's content hash and name. Run through Maven, which fetches the jars from Central:
 *
 * <pre>
 * mvn -q -pl model-core test-compile exec:java@import-encoders -Dsift.registry=./registry
 * </pre>
 */
public final class ImportEncoders {

    private ImportEncoders() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1 || args[0].isBlank()) {
            System.err.println("usage: ImportEncoders <registry folder>");
            System.exit(2);
        }
        ModelRegistry registry = ModelRegistry.at(Path.of(args[0]));
        List<Path> jars = jarsOnClassPath();
        if (jars.isEmpty()) {
            System.err.println("No encoder jar is on the class path");
            System.exit(1);
        }
        for (Path jar : jars) {
            EncoderBundle bundle = OnnxEncoderImporter.importJar(jar, registry.encodersDir());
            System.out.println(bundle.contentHash() + "  " + bundle.manifest().name());
        }
    }

    /** The jar of each known encoder, int8 and float32, that this class loader can see. */
    public static List<Path> jarsOnClassPath() throws IOException {
        ClassLoader loader = ImportEncoders.class.getClassLoader();
        List<Path> jars = new ArrayList<>();
        for (OnnxEncoderImporter.Known known : OnnxEncoderImporter.Known.values()) {
            for (String suffix : List.of("-q", "")) {
                URL graph = loader.getResource(known.stem() + suffix + ".onnx");
                if (graph != null) {
                    jars.add(jarOf(graph));
                }
            }
        }
        return jars;
    }

    /** The jar file a {@code jar:file:...!/entry} resource lies in. */
    public static Path jarOf(URL resource) throws IOException {
        String url = resource.toString();
        int separator = url.indexOf("!/");
        if (!url.startsWith("jar:") || separator < 0) {
            throw new IOException(resource + " is not inside a jar");
        }
        try {
            return Path.of(new java.net.URI(url.substring("jar:".length(), separator)));
        } catch (URISyntaxException e) {
            throw new IOException("Cannot read the jar of " + resource, e);
        }
    }
}
