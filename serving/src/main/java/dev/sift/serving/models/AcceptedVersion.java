package dev.sift.serving.models;

import dev.sift.schemas.ModelAction;
import java.util.ArrayList;
import java.util.List;

/**
 * The last announcement accepted for a model: a version to serve with its manifest hash, or a
 * retirement. Both carry the time of the announcement, so a replayed or older one is refused even
 * after a restore. A version also keeps the versions accepted before it (newest first, at most
 * {@link #EARLIER_KEPT}), which a subtask serves while this one does not load; and the trials
 * running beside it, a shadow and a canary, each at most one. Every subtask makes the same record
 * from the same announcement; the Flink job keeps it in broadcast state.
 *
 * @param announcedAtMillis {@code announcedAt} of the last announcement accepted for the model
 *     (whatever its action), epoch milliseconds: a later one must be newer
 * @param manifestSha256 the version's manifest hash; null for a retirement
 * @param earlier versions accepted before this one, newest first; empty for a retirement
 * @param shadow the version answering every request beside this one, its answers kept apart; null
 *     for none
 * @param canary the version answering a share of the requests instead of this one; null for none
 */
public record AcceptedVersion(
        long version,
        String manifestSha256,
        long announcedAtMillis,
        boolean retired,
        List<Earlier> earlier,
        Trial shadow,
        Trial canary) {

    /** How many earlier versions a record keeps to fall back on. */
    public static final int EARLIER_KEPT = 2;

    /** A version accepted before, with its manifest hash. */
    public record Earlier(long version, String manifestSha256) {}

    /**
     * A version on trial beside the serving one.
     *
     * @param percent for a canary, the share of requests it answers (above 0, at most 100); 0 for a
     *     shadow
     */
    public record Trial(long version, String manifestSha256, double percent) {
        @Override
        public String toString() {
            return "v" + version + (percent > 0 ? " for " + percent + "%" : "");
        }
    }

    public AcceptedVersion {
        earlier = List.copyOf(earlier);
    }

    /** A record without trials. */
    public AcceptedVersion(
            long version,
            String manifestSha256,
            long announcedAtMillis,
            boolean retired,
            List<Earlier> earlier) {
        this(version, manifestSha256, announcedAtMillis, retired, earlier, null, null);
    }

    /** The two trials a version can have running beside it. */
    public enum TrialKind {
        /** Answers every request beside the serving version; its answers are kept apart. */
        SHADOW,
        /** Answers a share of the requests instead of the serving version. */
        CANARY
    }

    /** This record with {@code trial} as its trial of that kind (null: none), at that time. */
    public AcceptedVersion withTrial(TrialKind kind, Trial trial, long announcedAtMillis) {
        return new AcceptedVersion(
                version,
                manifestSha256,
                announcedAtMillis,
                retired,
                earlier,
                kind == TrialKind.SHADOW ? trial : shadow,
                kind == TrialKind.CANARY ? trial : canary);
    }

    /** The trial of that kind; null for none. */
    public Trial trial(TrialKind kind) {
        return kind == TrialKind.SHADOW ? shadow : canary;
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

    /**
     * Whether this records the announcement with that time, version and action. Two announcements
     * of one model made in the same millisecond do not both pass, so the time, with what the action
     * left in the record, tells the same announcement read twice (from the registry and the topic)
     * from another.
     */
    boolean sameAnnouncement(long announcedAt, long version, ModelAction action) {
        if (announcedAtMillis != announcedAt) {
            return false;
        }
        return switch (action) {
            case RETIRE -> retired && this.version == version;
            case ACTIVATE, ROLL_BACK ->
                    !retired && this.version == version && shadow == null && canary == null;
            case SHADOW -> shadow != null && shadow.version() == version;
            case CANARY -> canary != null && canary.version() == version;
            case STOP_SHADOW -> shadow == null;
            case STOP_CANARY -> canary == null;
            default -> false;
        };
    }

    @Override
    public String toString() {
        if (retired) {
            return "retired";
        }
        return "v"
                + version
                + (shadow == null ? "" : ", shadow " + shadow)
                + (canary == null ? "" : ", canary " + canary);
    }
}
