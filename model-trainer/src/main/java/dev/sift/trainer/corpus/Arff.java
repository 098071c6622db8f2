package dev.sift.trainer.corpus;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * A Weka ARFF file: relation name, attributes and rows of values (dense or sparse).
 *
 * <p>Tokens follow Weka's own reader: commas and white space both separate values; a value may be
 * quoted with {@code '} or {@code "}, and inside quotes a backslash escapes the next character
 * ({@code \n}, {@code \t}, {@code \r}, {@code \b}, {@code \f}, {@code \\uXXXX}, and any other
 * character stands for itself, so {@code \'} is a quote); {@code %} outside quotes starts a
 * comment; {@code ?} is a missing value. Nominal values are checked against their declaration and
 * numeric values must parse. A file ending in {@code .gz} is read through gzip.
 *
 * <pre>{@code
 * Arff arff = Arff.read(Path.of("ReutersCorn-train.arff"));
 * int text = arff.attributeIndex("Text");
 * String first = arff.rows().get(0).get(text);
 * }</pre>
 */
public record Arff(String relation, List<Attribute> attributes, List<List<String>> rows) {

    /** The kinds of attribute ARFF declares. Relational attributes are not supported. */
    public enum Type {
        NUMERIC,
        NOMINAL,
        STRING,
        DATE
    }

    /** One declared attribute; {@code values} lists a nominal attribute's values, else empty. */
    public record Attribute(String name, Type type, List<String> values) {
        public Attribute {
            values = List.copyOf(values);
        }
    }

    /** A file that does not parse as ARFF; the message names the file and line. */
    public static final class FormatException extends IOException {
        private static final long serialVersionUID = 1L;

        FormatException(String source, long line, String message) {
            super(source + ":" + line + ": " + message);
        }
    }

    public Arff {
        attributes = List.copyOf(attributes);
        // Rows hold null for missing values, which List.copyOf refuses.
        rows = rows.stream().map(Collections::unmodifiableList).toList();
    }

    /** Index of the attribute named {@code name} (case-sensitive), or an exception naming all. */
    public int attributeIndex(String name) {
        for (int i = 0; i < attributes.size(); i++) {
            if (attributes.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException(
                "ARFF relation '"
                        + relation
                        + "' has no attribute '"
                        + name
                        + "'; it has "
                        + attributes.stream().map(Attribute::name).toList());
    }

    public static Arff read(Path file) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
                InputStream in =
                        file.getFileName().toString().endsWith(".gz")
                                ? new GZIPInputStream(raw)
                                : raw;
                BufferedReader reader =
                        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            return parse(reader, file.toString());
        }
    }

    public static Arff parse(BufferedReader reader, String source) throws IOException {
        String relation = null;
        List<Attribute> attributes = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        boolean data = false;
        long lineNumber = 0;
        for (String line; (line = reader.readLine()) != null; ) {
            lineNumber++;
            List<String> tokens = new Tokenizer(line, source, lineNumber).tokens();
            if (tokens.isEmpty()) {
                continue;
            }
            if (data) {
                rows.add(row(tokens, attributes, source, lineNumber));
                continue;
            }
            String keyword = tokens.get(0).toLowerCase(Locale.ROOT);
            switch (keyword) {
                case "@relation" -> {
                    expect(tokens.size() >= 2, source, lineNumber, "@relation needs a name");
                    relation = tokens.get(1);
                }
                case "@attribute" ->
                        attributes.add(attribute(tokens, source, lineNumber, attributes.size()));
                case "@data" -> {
                    expect(relation != null, source, lineNumber, "@data before @relation");
                    expect(!attributes.isEmpty(), source, lineNumber, "@data before @attribute");
                    data = true;
                }
                default ->
                        throw new FormatException(
                                source,
                                lineNumber,
                                "expected @relation, @attribute or @data, found '"
                                        + tokens.get(0)
                                        + "'");
            }
        }
        if (!data) {
            throw new FormatException(source, lineNumber, "no @data section");
        }
        return new Arff(relation, attributes, rows);
    }

    private static Attribute attribute(List<String> tokens, String source, long line, int index)
            throws FormatException {
        expect(tokens.size() >= 3, source, line, "@attribute needs a name and a type");
        String name = tokens.get(1);
        if (tokens.get(2).equals("{")) {
            int close = tokens.indexOf("}");
            expect(close > 3, source, line, "nominal attribute '" + name + "' needs {values}");
            return new Attribute(name, Type.NOMINAL, tokens.subList(3, close));
        }
        Type type =
                switch (tokens.get(2).toLowerCase(Locale.ROOT)) {
                    case "numeric", "real", "integer" -> Type.NUMERIC;
                    case "string" -> Type.STRING;
                    case "date" -> Type.DATE;
                    default ->
                            throw new FormatException(
                                    source,
                                    line,
                                    "attribute "
                                            + (index + 1)
                                            + " '"
                                            + name
                                            + "' has unsupported type '"
                                            + tokens.get(2)
                                            + "'");
                };
        return new Attribute(name, type, List.of());
    }

    private static List<String> row(
            List<String> tokens, List<Attribute> attributes, String source, long line)
            throws FormatException {
        String[] values = new String[attributes.size()];
        if (tokens.get(0).equals("{")) {
            // Sparse: "{index value, ...}"; what is left out is 0 (a nominal's first value).
            for (int i = 0; i < values.length; i++) {
                Attribute a = attributes.get(i);
                values[i] =
                        switch (a.type()) {
                            case NOMINAL -> a.values().get(0);
                            case NUMERIC -> "0";
                            default -> "";
                        };
            }
            expect(
                    tokens.get(tokens.size() - 1).equals("}"),
                    source,
                    line,
                    "sparse row not closed");
            List<String> pairs = tokens.subList(1, tokens.size() - 1);
            expect(pairs.size() % 2 == 0, source, line, "sparse row needs index-value pairs");
            for (int p = 0; p < pairs.size(); p += 2) {
                int index;
                try {
                    index = Integer.parseInt(pairs.get(p));
                } catch (NumberFormatException e) {
                    throw new FormatException(
                            source, line, "sparse index '" + pairs.get(p) + "' is not a number");
                }
                expect(
                        index >= 0 && index < values.length,
                        source,
                        line,
                        "sparse index " + index + " out of range 0.." + (values.length - 1));
                values[index] = pairs.get(p + 1);
            }
        } else {
            expect(
                    tokens.size() == values.length,
                    source,
                    line,
                    "row has " + tokens.size() + " values, expected " + values.length);
            tokens.toArray(values);
        }
        for (int i = 0; i < values.length; i++) {
            values[i] = checked(values[i], attributes.get(i), source, line);
        }
        return Arrays.asList(values);
    }

    private static String checked(String value, Attribute attribute, String source, long line)
            throws FormatException {
        if (value.equals(Tokenizer.MISSING)) {
            return null;
        }
        switch (attribute.type()) {
            case NOMINAL ->
                    expect(
                            attribute.values().contains(value),
                            source,
                            line,
                            "'"
                                    + value
                                    + "' is not a value of "
                                    + attribute.name()
                                    + " "
                                    + attribute.values());
            case NUMERIC -> {
                try {
                    Double.parseDouble(value);
                } catch (NumberFormatException e) {
                    throw new FormatException(
                            source,
                            line,
                            "'" + value + "' is not a number (" + attribute.name() + ")");
                }
            }
            default -> {}
        }
        return value;
    }

    private static void expect(boolean condition, String source, long line, String message)
            throws FormatException {
        if (!condition) {
            throw new FormatException(source, line, message);
        }
    }

    /** Splits one line into tokens as Weka's reader does. */
    private static final class Tokenizer {
        /**
         * Stands for an unquoted {@code ?}; a quoted {@code '?'} is the text "?". The NUL keeps it
         * apart from any token a file can hold.
         */
        static final String MISSING = "\u0000?";

        private final String line;
        private final String source;
        private final long lineNumber;
        private int pos;

        Tokenizer(String line, String source, long lineNumber) {
            this.line = line;
            this.source = source;
            this.lineNumber = lineNumber;
        }

        List<String> tokens() throws FormatException {
            List<String> tokens = new ArrayList<>();
            while (true) {
                while (pos < line.length()
                        && (line.charAt(pos) == ',' || Character.isWhitespace(line.charAt(pos)))) {
                    pos++;
                }
                if (pos >= line.length() || line.charAt(pos) == '%') {
                    return tokens;
                }
                char c = line.charAt(pos);
                if (c == '\'' || c == '"') {
                    tokens.add(quoted(c));
                } else if (c == '{' || c == '}') {
                    tokens.add(String.valueOf(c));
                    pos++;
                } else {
                    int start = pos;
                    while (pos < line.length() && !isDelimiter(line.charAt(pos))) {
                        pos++;
                    }
                    String word = line.substring(start, pos);
                    tokens.add(word.equals("?") ? MISSING : word);
                }
            }
        }

        private static boolean isDelimiter(char c) {
            return c == ','
                    || c == '{'
                    || c == '}'
                    || c == '%'
                    || c == '\''
                    || c == '"'
                    || Character.isWhitespace(c);
        }

        private String quoted(char quote) throws FormatException {
            int start = pos;
            pos++; // the opening quote
            StringBuilder value = new StringBuilder();
            while (pos < line.length()) {
                char c = line.charAt(pos++);
                if (c == quote) {
                    return value.toString();
                }
                if (c != '\\') {
                    value.append(c);
                    continue;
                }
                if (pos >= line.length()) {
                    break;
                }
                char escaped = line.charAt(pos++);
                switch (escaped) {
                    case 'n' -> value.append('\n');
                    case 't' -> value.append('\t');
                    case 'r' -> value.append('\r');
                    case 'b' -> value.append('\b');
                    case 'f' -> value.append('\f');
                    case 'u' -> {
                        if (pos + 4 <= line.length()
                                && line.substring(pos, pos + 4).matches("[0-9a-fA-F]{4}")) {
                            value.append((char) Integer.parseInt(line.substring(pos, pos + 4), 16));
                            pos += 4;
                        } else {
                            value.append('u');
                        }
                    }
                    default -> value.append(escaped); // \\ \' \" \% and the rest
                }
            }
            throw new FormatException(
                    source, lineNumber, "quote opened at column " + (start + 1) + " is not closed");
        }
    }
}
