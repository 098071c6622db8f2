package dev.sift.demo;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns the trainer's progress output into whole, prefixed lines that can share the console with
 * the labeled events: a progress bar redrawn in place (with {@code \r}) would be torn apart by
 * them, so a redraw is printed as its own line at most every {@code interval} nanoseconds, and
 * every finished line (a bar at 100%, an epoch's figures) is printed as it comes.
 */
final class ProgressLines extends OutputStream {

    private final PrintStream out;
    private final String prefix;
    private final long intervalNanos;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private long lastRedraw = System.nanoTime();

    private ProgressLines(PrintStream out, String prefix, long intervalNanos) {
        this.out = out;
        this.prefix = prefix;
        this.intervalNanos = intervalNanos;
    }

    /**
     * A stream for the trainer's progress that prints to {@code out}, each line after {@code
     * prefix}.
     */
    static PrintStream to(PrintStream out, String prefix, java.time.Duration interval) {
        return new PrintStream(
                new ProgressLines(out, prefix, interval.toNanos()), true, StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void write(int b) {
        if (b == '\n') {
            emit();
        } else if (b == '\r') {
            // A redraw follows: keep this state only if it is time to show one.
            long now = System.nanoTime();
            if (now - lastRedraw >= intervalNanos) {
                lastRedraw = now;
                emit();
            } else {
                line.reset();
            }
        } else {
            line.write(b);
        }
    }

    private void emit() {
        String text = line.toString(StandardCharsets.UTF_8).strip();
        line.reset();
        if (!text.isEmpty()) {
            out.println(prefix + text);
        }
    }
}
