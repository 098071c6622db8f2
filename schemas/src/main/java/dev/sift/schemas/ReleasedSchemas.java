package dev.sift.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;

/**
 * The schemas Sift has released, kept as resources under {@code dev/sift/schemas/released/<n>/}.
 *
 * <p>Decoders register every released version so bytes written by an older producer still decode,
 * and the compatibility test checks each change to {@code src/main/avro} against all of them.
 * Releasing means copying every {@code .avsc} file of {@code src/main/avro} into the next numbered
 * folder, changed or not, so each folder is one complete release.
 */
public final class ReleasedSchemas {

    private static final String ROOT = "/dev/sift/schemas/released/";

    private ReleasedSchemas() {}

    /**
     * Every released version of the named record schema (e.g. {@code "TextRequest"}), oldest first.
     */
    public static List<Schema> of(String recordName) {
        List<Schema> schemas = new ArrayList<>();
        for (int release = 1; ; release++) {
            String path = ROOT + release + "/" + recordName + ".avsc";
            try (InputStream in = ReleasedSchemas.class.getResourceAsStream(path)) {
                if (in == null) {
                    return schemas;
                }
                schemas.add(new Schema.Parser().parse(in));
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read released schema " + path, e);
            }
        }
    }
}
