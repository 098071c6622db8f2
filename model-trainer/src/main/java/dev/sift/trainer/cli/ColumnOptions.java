package dev.sift.trainer.cli;

import dev.sift.trainer.data.Columns;
import picocli.CommandLine.Option;

/**
 * Where a labeled file keeps its texts and labels: what {@code train} and {@code evaluate} read.
 */
final class ColumnOptions {

    @Option(
            names = "--text-column",
            defaultValue = "text",
            description = "Text column or field (default ${DEFAULT-VALUE}).")
    String textColumn;

    @Option(
            names = "--text-b-column",
            defaultValue = "text_b",
            description = "Second text of a pair (default ${DEFAULT-VALUE}).")
    String textBColumn;

    @Option(
            names = "--label-column",
            defaultValue = "label",
            description = "Label column or field (default ${DEFAULT-VALUE}).")
    String labelColumn;

    Columns columns() {
        return new Columns(textColumn, textBColumn, labelColumn);
    }
}
