package dev.sift.trainer.features;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/**
 * A one-line progress bar with rate and ETA, redrawn in place on a terminal's error stream.
 *
 * <p>Not a library's (me.tongfei:progressbar is the usual one): that brings JLine to own the
 * terminal, while this bar must also print into a plain stream, which the demo turns into whole
 * lines beside the labeled events ({@code ProgressLines}); one {@code printf} of {@code \r} and a
 * line does both.
 */
public final class Progress {

    private static final int WIDTH = 30;

    private final PrintStream out;
    private final String label;
    private final int total;
    private final long start = System.nanoTime();
    private long lastDraw;

    public Progress(PrintStream out, String label, int total) {
        this.out = out;
        this.label = label;
        this.total = total;
    }

    public void update(int done) {
        long now = System.nanoTime();
        if (out == null || (now - lastDraw < 250_000_000L && done < total)) {
            return; // redraw at most four times a second
        }
        lastDraw = now;
        double seconds = (now - start) / 1e9;
        double rate = done / Math.max(seconds, 1e-9);
        long eta = rate > 0 ? Math.round((total - done) / rate) : 0;
        int filled = total == 0 ? WIDTH : (int) ((long) WIDTH * done / total);
        out.printf(
                Locale.ROOT,
                "\r%s [%s%s] %d/%d %.1f/s ETA %s   ",
                label,
                "=".repeat(filled),
                " ".repeat(WIDTH - filled),
                done,
                total,
                rate,
                format(Duration.ofSeconds(eta)));
        if (done >= total) {
            out.println();
        }
        out.flush();
    }

    private static String format(Duration duration) {
        long s = duration.getSeconds();
        return s >= 3600
                ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
