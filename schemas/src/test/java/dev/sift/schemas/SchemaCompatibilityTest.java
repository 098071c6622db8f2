package dev.sift.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Guards the wire contract: the schemas in {@code src/main/avro} must read everything any released
 * version wrote (backward compatibility), and the newest release must read what the current schemas
 * write (forward, so a job on the last release survives a producer upgrading first).
 */
class SchemaCompatibilityTest {

    private static final Path CURRENT = Path.of("src/main/avro");

    static Stream<Schema> currentSchemas() throws IOException {
        try (Stream<Path> files = Files.list(CURRENT)) {
            return files
                    .filter(f -> f.toString().endsWith(".avsc"))
                    .sorted()
                    .map(SchemaCompatibilityTest::parse)
                    .toList()
                    .stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("currentSchemas")
    void currentReadsEveryRelease(Schema current) {
        List<Schema> released = ReleasedSchemas.of(current.getName());
        for (Schema writer : released) {
            assertCompatible(current, writer, "current reader vs released writer");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("currentSchemas")
    void latestReleaseReadsCurrent(Schema current) {
        List<Schema> released = ReleasedSchemas.of(current.getName());
        if (!released.isEmpty()) {
            assertCompatible(
                    released.get(released.size() - 1),
                    current,
                    "released reader vs current writer");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("currentSchemas")
    void everyFieldIsDocumented(Schema current) {
        assertThat(current.getDoc()).as(current.getName() + " doc").isNotBlank();
        for (Schema.Field field : current.getFields()) {
            assertThat(field.doc())
                    .as(current.getName() + "." + field.name() + " doc")
                    .isNotBlank();
        }
    }

    @Test
    void everyRecordOfTheFirstReleaseIsStillDefined() throws IOException {
        List<String> current = currentSchemas().map(Schema::getName).toList();
        assertThat(current)
                .contains(
                        "TextRequest",
                        "PairRequest",
                        "ClassificationResult",
                        "DeadLetter",
                        "ModelAnnouncement",
                        "LabeledExample");
        for (String name : current) {
            assertThat(ReleasedSchemas.of(name)).as("releases of " + name).isNotEmpty();
        }
    }

    /** Proves the check above can fail: a new required field breaks old writers. */
    @Test
    void aRequiredFieldWithoutDefaultIsIncompatible() {
        Schema released = ReleasedSchemas.of("TextRequest").get(0);
        String broken =
                released.toString()
                        .replace(
                                "\"fields\":[",
                                "\"fields\":[{\"name\":\"tenant\",\"type\":\"string\"},");
        Schema reader = new Schema.Parser().parse(broken);

        var result = SchemaCompatibility.checkReaderWriterCompatibility(reader, released);

        assertThat(result.getType()).isEqualTo(SchemaCompatibilityType.INCOMPATIBLE);
    }

    private static void assertCompatible(Schema reader, Schema writer, String what) {
        var result = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        assertThat(result.getType())
                .as(
                        "%s for %s: %s",
                        what, reader.getName(), result.getResult().getIncompatibilities())
                .isEqualTo(SchemaCompatibilityType.COMPATIBLE);
    }

    private static Schema parse(Path file) {
        try {
            return new Schema.Parser().parse(file.toFile());
        } catch (IOException e) {
            throw new IllegalStateException("Cannot parse " + file, e);
        }
    }
}
