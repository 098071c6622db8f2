package dev.sift.serving.models;

import java.util.ArrayList;
import java.util.List;

/**
 * The last announcement accepted for a model: a version to serve with its manifest hash, or a
 * retirement. Both carry the time of the announcement, so a replayed or older one is refused even
 * after a restore. A version also keeps the versions accepted before it (newest first, at most
 * {@link #EARLIER_KEPT}), which a subtask serves while this one does not load. Every subtask makes
 * the same record from the same announcement; the Flink job keeps it in broadcast state.
 *
 * @param announcedAtMillis {@code announcedAt} of the announcement, epoch milliseconds
 * @param manifestSha256 the version's manifest hash; null for a retirement
 * @param earlier versions accepted before this one, newest first; empty for a retirement
 */
public record AcceptedVersion(
        long version,
        String manifestSha256,
        long announcedAtMillis,
        boolean retired,
        List<Earlier> earlier) {

    /** How many earlier versions a record keeps to fall back on. */
    public static final int EARLIER_KEPT = 2;

    /** A version accepted before, with its manifest hash. */
    public record Earlier(long version, String manifestSha256) {}

    public AcceptedVersion {
        earlier = List.copyOf(earlier);
    }

    public static AcceptedVersion retired(long version, long announcedAtMillis) {
        return new AcceptedVersion(version, null, announcedAtMillis, true, List.of());
    }

    /**
     * The record for {@code version}, accepted after {@code previous} (null for none): previous and
     * its own earlier versions become this one's, newest first, without {@code version} itself; a
     * retirement leaves nothing to fall back on.
     */
    public static AcceptedVersion after(
            AcceptedVersion previous, long version, String manifestSha256, long announcedAtMillis) {
        List<Earlier> earlier = new ArrayList<>(EARLIER_KEPT);
        if (previous != null && !previous.retired) {
            List<Earlier> candidates = new ArrayList<>();
            candidates.add(new Earlier(previous.version, previous.manifestSha256));
            candidates.addAll(previous.earlier);
            for (Earlier candidate : candidates) {
                if (earlier.size() < EARLIER_KEPT
                        && candidate.version() != version
                        && earlier.stream().noneMatch(e -> e.version() == candidate.version())) {
                    earlier.add(candidate);
                }
            }
        }
        return new AcceptedVersion(version, manifestSha256, announcedAtMillis, false, earlier);
    }

    /** Whether this records the announcement with that time, version and action. */
    boolean sameAnnouncement(long announcedAt, long version, boolean retirement) {
        return announcedAtMillis == announcedAt && this.version == version && retired == retirement;
    }

    @Override
    public String toString() {
        return retired ? "retired" : "v" + version;
    }
}
