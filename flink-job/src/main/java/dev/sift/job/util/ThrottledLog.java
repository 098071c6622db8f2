package dev.sift.job.util;

import org.slf4j.Logger;

/**
 * Logs an unexpected exception with its stack trace at most once per interval, and says how many it
 * left out. A bug that one record triggers is usually triggered by many; the first trace is the
 * useful one, the next thousand would only flood the TaskManager log.
 */
public final class ThrottledLog {

    private final Logger log;
    private final long intervalNanos;
    private long lastNanos;
    private boolean loggedOnce;
    private long suppressed;

    public ThrottledLog(Logger log, long intervalMillis) {
        this.log = log;
        this.intervalNanos = intervalMillis * 1_000_000;
    }

    /** Logs {@code message} with {@code e}'s stack trace, unless one was logged recently. */
    public synchronized void error(String message, Throwable e) {
        long now = System.nanoTime();
        if (loggedOnce && now - lastNanos < intervalNanos) {
            suppressed++;
            return;
        }
        if (suppressed > 0) {
            log.error("{} ({} more like it since the last trace)", message, suppressed, e);
        } else {
            log.error(message, e);
        }
        loggedOnce = true;
        lastNanos = now;
        suppressed = 0;
    }
}
