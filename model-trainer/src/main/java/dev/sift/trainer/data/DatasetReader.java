package dev.sift.trainer.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.schemas.LabeledExample;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Reads labeled examples from JSONL ({@code .jsonl}), CSV ({@code .csv}), TSV ({@code .tsv}) or
 * Avro container files of {@link LabeledExample} ({@code .avro}).
 *
 * <p>Rows that cannot be used (a missing or blank text or label, a pair missing a half, malformed
 * JSON) are skipped and reported with their line numbers. When more than {@code maxBadFraction} of
 * the rows are bad the file is refused as a whole: that is almost always a wrong column name or a
 * wrong file, and training on the remainder would mislead.
 */
public final class DatasetReader {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Columns columns;
    private final double maxBadFraction;

    public DatasetReader(Columns columns, double maxBadFraction) {
        this.columns = columns;
        this.maxBadFraction = maxBadFraction;
    }

    public DatasetReader() {
        this(Columns.defaults(), 0.5);
    }

    public Dataset read(Path file) throws IOException, DatasetException {
        if (!Files.isRegularFile(file)) {
            throw new DatasetException(file + " does not exist or is not a file");
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        Rows rows = new Rows(file.toString());
        if (name.endsWith(".jsonl") || name.endsWith(".json")) {
            readJsonLines(file, rows);
        } else if (name.endsWith(".csv")) {
            readDelimited(file, CSVFormat.DEFAULT, rows);
        } else if (name.endsWith(".tsv")) {
            readDelimited(file, CSVFormat.TDF, rows);
        } else if (name.endsWith(".avro")) {
            readAvro(file, rows);
        } else {
            throw new DatasetException(
                    file + ": unknown format; use a .jsonl, .csv, .tsv or .avro file");
        }
        return rows.finish();
    }

    private void readJsonLines(Path file, Rows rows) throws IOException {
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            long line = 0;
            for (String text; (text = reader.readLine()) != null; ) {
                line++;
                if (text.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(text);
                } catch (JsonProcessingException e) {
                    rows.bad(line, "malformed JSON: " + e.getOriginalMessage());
                    continue;
                }
                if (!node.isObject()) {
                    rows.bad(line, "not a JSON object");
                    continue;
                }
                Map<String, String> fields = new LinkedHashMap<>();
                node.fields()
                        .forEachRemaining(
                                f -> {
                                    if (f.getValue().isValueNode() && !f.getValue().isNull()) {
                                        fields.put(f.getKey(), f.getValue().asText());
                                    }
                                });
                JsonNode attributes = node.get("attributes");
                Map<String, String> extra = new LinkedHashMap<>();
                if (attributes != null && attributes.isObject()) {
                    attributes
                            .fields()
                            .forEachRemaining(f -> extra.put(f.getKey(), f.getValue().asText()));
                }
                rows.add(line, fields, extra);
            }
        }
    }

    private void readDelimited(Path file, CSVFormat format, Rows rows)
            throws IOException, DatasetException {
        CSVFormat withHeader = format.builder().setHeader().setSkipHeaderRecord(true).get();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
                CSVParser parser = CSVParser.parse(reader, withHeader)) {
            List<String> header = parser.getHeaderNames();
            if (!header.contains(columns.text()) && !header.contains("text_a")) {
                throw new DatasetException(
                        file
                                + ": no '"
                                + columns.text()
                                + "' column (header is "
                                + header
                                + "); name the text column with --text-column");
            }
            try {
                for (CSVRecord record : parser) {
                    // Line of the record's first character: header is line 1.
                    long line = record.getRecordNumber() + 1;
                    if (!record.isConsistent()) {
                        rows.bad(
                                line,
                                "has "
                                        + record.size()
                                        + " fields, the header has "
                                        + header.size());
                        continue;
                    }
                    rows.add(line, record.toMap(), Map.of());
                }
            } catch (java.io.UncheckedIOException e) {
                throw new DatasetException(
                        file + ": unreadable after " + rows.total + " rows: " + e.getMessage(), e);
            }
        }
    }

    private void readAvro(Path file, Rows rows) throws IOException {
        try (DataFileReader<LabeledExample> reader =
                new DataFileReader<>(
                        file.toFile(), new SpecificDatumReader<>(LabeledExample.class))) {
            long index = 0;
            for (LabeledExample example : reader) {
                index++;
                Map<String, String> fields = new LinkedHashMap<>();
                fields.put(columns.text(), example.getText());
                if (example.getTextB() != null) {
                    fields.put(columns.textB(), example.getTextB());
                }
                fields.put(columns.label(), example.getLabel());
                rows.add(index, fields, example.getAttributes());
            }
        }
    }

    /** Accumulates examples and bad rows; decides per file whether it holds pairs. */
    private final class Rows {
        private final String source;
        private final List<Example> examples = new ArrayList<>();
        private final List<Dataset.BadRow> bad = new ArrayList<>();
        private long total;
        private Boolean pairs;

        Rows(String source) {
            this.source = source;
        }

        void bad(long line, String reason) {
            total++;
            bad.add(new Dataset.BadRow(line, reason));
        }

        void add(long line, Map<String, String> fields, Map<String, String> attributes) {
            String text = fields.get(columns.text());
            String textColumn = columns.text();
            if (text == null && fields.containsKey("text_a")) {
                text = fields.get("text_a");
                textColumn = "text_a";
            }
            String textB = fields.get(columns.textB());
            String label = fields.get(columns.label());
            if (pairs == null && text != null) {
                pairs = textB != null;
            }
            if (text == null || text.isBlank()) {
                bad(line, "no '" + textColumn + "' text");
            } else if (label == null || label.isBlank()) {
                bad(line, "no '" + columns.label() + "'");
            } else if (Boolean.TRUE.equals(pairs) && (textB == null || textB.isBlank())) {
                bad(line, "pair dataset, but '" + columns.textB() + "' is missing");
            } else if (Boolean.FALSE.equals(pairs) && textB != null) {
                bad(line, "single-text dataset, but this row has '" + columns.textB() + "'");
            } else {
                total++;
                examples.add(new Example(text, textB, label.strip(), attributes));
            }
        }

        Dataset finish() throws DatasetException {
            if (total > 0 && bad.size() > maxBadFraction * total) {
                throw new DatasetException(
                        String.format(
                                Locale.ROOT,
                                "%s: %d of %d rows are unusable (first: %s). Check the column"
                                        + " names (--text-column, --label-column) and the file"
                                        + " format.",
                                source,
                                bad.size(),
                                total,
                                bad.get(0)));
            }
            if (examples.isEmpty()) {
                throw new DatasetException(source + ": no examples");
            }
            return new Dataset(source, examples, bad);
        }
    }
}
