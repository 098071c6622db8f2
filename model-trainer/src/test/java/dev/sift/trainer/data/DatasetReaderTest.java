package dev.sift.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sift.schemas.LabeledExample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetReaderTest {

    @TempDir Path dir;
    private final DatasetReader reader = new DatasetReader();

    @Test
    void readsJsonLinesAndReportsBadRowsByLine() throws Exception {
        Path file =
                write(
                        "d.jsonl",
                        "{\"text\":\"win"
                                + " cash\",\"label\":\"spam\",\"attributes\":{\"src\":\"a\"}}\n"
                                + "{\"text\":\"lunch?\",\"label\":\"ham\"}\n"
                                + "\n"
                                + "{\"text\":\"\",\"label\":\"ham\"}\n"
                                + "{not json\n"
                                + "{\"text\":\"no label\"}\n"
                                + "{\"text\":\"ok\",\"label\":\"ham\"}\n");

        Dataset data = reader.read(file);

        assertThat(data.examples()).hasSize(3);
        assertThat(data.examples().get(0).attributes()).containsEntry("src", "a");
        assertThat(data.badRows()).extracting(Dataset.BadRow::line).containsExactly(4L, 5L, 6L);
        assertThat(data.badRows().get(0).reason()).contains("no 'text' text");
        assertThat(data.badRows().get(1).reason()).contains("malformed JSON");
        assertThat(data.badRows().get(2).reason()).contains("no 'label'");
        assertThat(data.labelCounts()).containsEntry("ham", 2).containsEntry("spam", 1);
    }

    @Test
    void readsCsvWithQuotingAndTsv() throws Exception {
        Path csv =
                write(
                        "d.csv",
                        "label,text\nspam,\"Free, as in \"\"money\"\"\"\nham,\"multi\nline\"\n");
        Path tsv = write("d.tsv", "text\tlabel\nhello there\tham\nbuy now\tspam\n");

        Dataset fromCsv = reader.read(csv);
        Dataset fromTsv = reader.read(tsv);

        assertThat(fromCsv.examples())
                .extracting(Example::text)
                .containsExactly("Free, as in \"money\"", "multi\nline");
        assertThat(fromTsv.examples()).extracting(Example::label).containsExactly("ham", "spam");
    }

    @Test
    void readsPairsFromTextAAndTextBColumns() throws Exception {
        Path file =
                write(
                        "p.csv",
                        "text_a,text_b,label\nA man plays.,Music is made.,entail\nx,,neutral\n");

        Dataset data = reader.read(file);

        assertThat(data.isPairTask()).isTrue();
        assertThat(data.examples().get(0).textB()).isEqualTo("Music is made.");
        assertThat(data.badRows())
                .singleElement()
                .hasToString("line 3: pair dataset, but 'text_b' is missing");
    }

    @Test
    void configurableColumnNames() throws Exception {
        Path file = write("c.csv", "body,category\nhello,greeting\nbye,farewell\n");

        Dataset data = new DatasetReader(new Columns("body", "text_b", "category"), 0.5).read(file);

        assertThat(data.labels()).containsExactly("farewell", "greeting");
    }

    @Test
    void refusesAMostlyBadFileNamingTheFirstProblem() throws Exception {
        Path file = write("bad.csv", "message,label\nhello,ham\n");

        assertThatThrownBy(() -> reader.read(file))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining("no 'text' column (header is [message, label])")
                .hasMessageContaining("--text-column");

        Path mostlyBad =
                write(
                        "m.jsonl",
                        "{\"text\":\"a\",\"label\":\"x\"}\n{\"text\":\"b\"}\n{\"text\":\"c\"}\n");
        assertThatThrownBy(() -> reader.read(mostlyBad))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining("2 of 3 rows are unusable (first: line 2: no 'label')");
    }

    @Test
    void refusesUnknownFormats() throws Exception {
        Path file = write("d.xlsx", "whatever");

        assertThatThrownBy(() -> reader.read(file)).hasMessageContaining("use a .jsonl, .csv");
    }

    @Test
    void readsAvroContainerFiles() throws Exception {
        Path file = dir.resolve("d.avro");
        try (DataFileWriter<LabeledExample> writer =
                new DataFileWriter<>(new SpecificDatumWriter<>(LabeledExample.class))) {
            writer.create(LabeledExample.getClassSchema(), file.toFile());
            writer.append(new LabeledExample("free cash", null, "spam", Map.of("g", "1")));
            writer.append(new LabeledExample("see you", null, "ham", Map.of()));
        }

        Dataset data = reader.read(file);

        assertThat(data.examples()).extracting(Example::label).containsExactly("spam", "ham");
        assertThat(data.examples().get(0).attributes()).containsEntry("g", "1");
    }

    private Path write(String name, String content) throws Exception {
        return Files.writeString(dir.resolve(name), content);
    }
}
