package dev.sift.trainer.data;

import java.util.Map;
import java.util.Objects;

/**
 * One labeled example: a text ({@code textB == null}) or a sentence pair, its label, and attributes
 * kept for error analysis (the corpus group, the source file).
 */
public record Example(String text, String textB, String label, Map<String, String> attributes) {

    public Example {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(label, "label");
        attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
    }

    public static Example text(String text, String label) {
        return new Example(text, null, label, Map.of());
    }

    public boolean isPair() {
        return textB != null;
    }

    /**
     * A stable identity of the input (not the label), for caching features and finding duplicates.
     */
    public String inputKey() {
        return isPair() ? "pair\u0000" + text + "\u0000" + textB : "text\u0000" + text;
    }
}
