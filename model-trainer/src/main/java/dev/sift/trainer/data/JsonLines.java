package dev.sift.trainer.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes examples as JSONL ({@code text}, {@code text_b}, {@code label}, {@code attributes}). */
public final class JsonLines {

    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonLines() {}

    public static void write(Path file, List<Example> examples) throws IOException {
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Example example : examples) {
                ObjectNode node = JSON.createObjectNode();
                if (example.isPair()) {
                    node.put("text_a", example.text());
                    node.put("text_b", example.textB());
                } else {
                    node.put("text", example.text());
                }
                node.put("label", example.label());
                ObjectNode attributes = node.putObject("attributes");
                example.attributes().forEach(attributes::put);
                out.write(JSON.writeValueAsString(node));
                out.newLine();
            }
        }
    }

    /** Reads examples with all their attributes (the subject and body of imported mails). */
    public static List<Example> readMails(Path file) throws IOException {
        List<Example> examples = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node = JSON.readTree(line);
                Map<String, String> attributes = new LinkedHashMap<>();
                node.path("attributes")
                        .fields()
                        .forEachRemaining(f -> attributes.put(f.getKey(), f.getValue().asText()));
                examples.add(
                        new Example(
                                node.path("text").asText(),
                                null,
                                node.path("label").asText(),
                                attributes));
            }
        }
        return examples;
    }
}
