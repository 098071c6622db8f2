package dev.sift.trainer.data;

/**
 * Which columns (or JSON fields) hold the text, the optional second text and the label. Defaults:
 * {@code text}, {@code text_b}, {@code label}; a file with {@code text_a} instead of {@code text}
 * is read as pairs without configuration.
 */
public record Columns(String text, String textB, String label) {

    public static Columns defaults() {
        return new Columns("text", "text_b", "label");
    }
}
