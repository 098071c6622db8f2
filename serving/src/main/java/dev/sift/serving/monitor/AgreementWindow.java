package dev.sift.serving.monitor;

/**
 * How often two versions gave the same label over their last {@code capacity} compared answers: the
 * shadow agreement a subtask reports. One writer (the operator's thread); reporters read the share
 * from theirs, so it is kept in a volatile field rather than computed from the ring.
 */
public final class AgreementWindow {

    private final boolean[] agreed;
    private int next;
    private int size;
    private int agreeing;
    private volatile double agreementPct = Double.NaN;

    public AgreementWindow(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, not " + capacity);
        }
        this.agreed = new boolean[capacity];
    }

    /** Adds one comparison, forgetting the oldest when the window is full. */
    public void add(boolean same) {
        if (size == agreed.length) {
            agreeing -= agreed[next] ? 1 : 0;
        } else {
            size++;
        }
        agreed[next] = same;
        agreeing += same ? 1 : 0;
        next = (next + 1) % agreed.length;
        agreementPct = 100.0 * agreeing / size;
    }

    /** The share of the window's comparisons that agreed, in percent; NaN before the first. */
    public double agreementPct() {
        return agreementPct;
    }
}
