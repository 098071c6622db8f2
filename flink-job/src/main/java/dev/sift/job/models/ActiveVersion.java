package dev.sift.job.models;

import java.util.Objects;

/**
 * What broadcast state remembers per model: the last announcement the job accepted for it. Either a
 * version to serve with its manifest hash, or a retirement; both carry the time of the
 * announcement, so a replayed or older one is refused even after a restore. On restore every
 * subtask reloads exactly this. A Flink POJO: fields may be added, never removed or renamed.
 */
public final class ActiveVersion {

    public long version;
    public String manifestSha256;

    /** {@code announcedAt} of the accepted announcement, epoch milliseconds; 0 when unknown. */
    public long announcedAtMillis;

    /** The model was retired: nothing serves it until a newer activation. */
    public boolean retired;

    public ActiveVersion() {}

    public ActiveVersion(long version, String manifestSha256, long announcedAtMillis) {
        this.version = version;
        this.manifestSha256 = manifestSha256;
        this.announcedAtMillis = announcedAtMillis;
    }

    public static ActiveVersion retired(long version, long announcedAtMillis) {
        ActiveVersion retired = new ActiveVersion(version, null, announcedAtMillis);
        retired.retired = true;
        return retired;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ActiveVersion that
                && version == that.version
                && announcedAtMillis == that.announcedAtMillis
                && retired == that.retired
                && Objects.equals(manifestSha256, that.manifestSha256);
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, manifestSha256, announcedAtMillis, retired);
    }

    @Override
    public String toString() {
        return retired ? "retired" : "v" + version;
    }
}
