package dev.sift.trainer.data;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Examples read from a file, with the rows that were skipped and why (line number and reason). */
public record Dataset(String source, List<Example> examples, List<BadRow> badRows) {

    /** A row that could not be used. {@code line} is 1-based in the file. */
    public record BadRow(long line, String reason) {
        @Override
        public String toString() {
            return "line " + line + ": " + reason;
        }
    }

    public Dataset {
        examples = List.copyOf(examples);
        badRows = List.copyOf(badRows);
    }

    public List<String> labels() {
        return examples.stream().map(Example::label).distinct().sorted().toList();
    }

    public Map<String, Integer> labelCounts() {
        Map<String, Integer> counts = new TreeMap<>();
        for (Example example : examples) {
            counts.merge(example.label(), 1, Integer::sum);
        }
        return counts;
    }

    public boolean isPairTask() {
        return !examples.isEmpty() && examples.get(0).isPair();
    }
}
