package dev.sift.job.models;

import java.util.Arrays;
import java.util.Objects;

/**
 * What broadcast state remembers per model: the last announcement the job accepted for it. Either a
 * version to serve with its manifest hash, or a retirement; both carry the time of the
 * announcement, so a replayed or older one is refused even after a restore. A version also keeps
 * the versions accepted before it (newest first, at most {@link #EARLIER_KEPT}), which a subtask
 * serves while the recorded one does not load. Every subtask writes the same record for the same
 * announcement. A Flink POJO: fields may be added, never removed or renamed.
 */
public final class ActiveVersion {

    /** How many earlier versions a record keeps to fall back on. */
    public static final int EARLIER_KEPT = 2;

    public long version;
    public String manifestSha256;

    /** {@code announcedAt} of the accepted announcement, epoch milliseconds; 0 when unknown. */
    public long announcedAtMillis;

    /** The model was retired: nothing serves it until a newer activation. */
    public boolean retired;

    /** Versions accepted before this one, newest first; null in records from before the field. */
    public long[] earlierVersions;

    /** The manifest hashes of {@link #earlierVersions}, index for index. */
    public String[] earlierManifestSha256s;

    public ActiveVersion() {}

    public ActiveVersion(long version, String manifestSha256, long announcedAtMillis) {
        this.version = version;
        this.manifestSha256 = manifestSha256;
        this.announcedAtMillis = announcedAtMillis;
        this.earlierVersions = new long[0];
        this.earlierManifestSha256s = new String[0];
    }

    public static ActiveVersion retired(long version, long announcedAtMillis) {
        ActiveVersion retired = new ActiveVersion(version, null, announcedAtMillis);
        retired.retired = true;
        return retired;
    }

    /**
     * The record for {@code version}, accepted after {@code previous} (null for none): previous and
     * its own earlier versions become this one's, newest first, without {@code version} itself; a
     * retirement leaves nothing to fall back on.
     */
    public static ActiveVersion after(
            ActiveVersion previous, long version, String manifestSha256, long announcedAtMillis) {
        ActiveVersion next = new ActiveVersion(version, manifestSha256, announcedAtMillis);
        if (previous == null || previous.retired) {
            return next;
        }
        long[] versions = new long[EARLIER_KEPT];
        String[] hashes = new String[EARLIER_KEPT];
        int kept = 0;
        for (int i = -1; i < previous.earlierCount() && kept < EARLIER_KEPT; i++) {
            long candidate = i < 0 ? previous.version : previous.earlierVersions[i];
            String hash = i < 0 ? previous.manifestSha256 : previous.earlierManifestSha256s[i];
            if (candidate != version && !contains(versions, kept, candidate)) {
                versions[kept] = candidate;
                hashes[kept] = hash;
                kept++;
            }
        }
        next.earlierVersions = Arrays.copyOf(versions, kept);
        next.earlierManifestSha256s = Arrays.copyOf(hashes, kept);
        return next;
    }

    /** How many earlier versions this record keeps. */
    public int earlierCount() {
        return earlierVersions == null ? 0 : earlierVersions.length;
    }

    private static boolean contains(long[] versions, int count, long version) {
        for (int i = 0; i < count; i++) {
            if (versions[i] == version) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ActiveVersion that
                && version == that.version
                && announcedAtMillis == that.announcedAtMillis
                && retired == that.retired
                && Objects.equals(manifestSha256, that.manifestSha256)
                && Arrays.equals(orEmpty(earlierVersions), orEmpty(that.earlierVersions))
                && Arrays.equals(
                        orEmpty(earlierManifestSha256s), orEmpty(that.earlierManifestSha256s));
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, manifestSha256, announcedAtMillis, retired);
    }

    @Override
    public String toString() {
        return retired ? "retired" : "v" + version;
    }

    private static long[] orEmpty(long[] array) {
        return array == null ? new long[0] : array;
    }

    private static String[] orEmpty(String[] array) {
        return array == null ? new String[0] : array;
    }
}
