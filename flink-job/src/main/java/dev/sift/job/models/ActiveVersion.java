package dev.sift.job.models;

import dev.sift.serving.models.AcceptedVersion;
import java.util.ArrayList;
import java.util.List;

/**
 * How broadcast state stores an {@link AcceptedVersion}: the last announcement the job accepted for
 * a model. A Flink POJO whose class name and fields are part of every savepoint: fields may be
 * added, never removed or renamed, and the class stays where it is.
 */
public final class ActiveVersion {

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

    public static ActiveVersion of(AcceptedVersion accepted) {
        ActiveVersion stored = new ActiveVersion();
        stored.version = accepted.version();
        stored.manifestSha256 = accepted.manifestSha256();
        stored.announcedAtMillis = accepted.announcedAtMillis();
        stored.retired = accepted.retired();
        List<AcceptedVersion.Earlier> earlier = accepted.earlier();
        stored.earlierVersions = new long[earlier.size()];
        stored.earlierManifestSha256s = new String[earlier.size()];
        for (int i = 0; i < earlier.size(); i++) {
            stored.earlierVersions[i] = earlier.get(i).version();
            stored.earlierManifestSha256s[i] = earlier.get(i).manifestSha256();
        }
        return stored;
    }

    public AcceptedVersion accepted() {
        List<AcceptedVersion.Earlier> earlier = new ArrayList<>();
        for (int i = 0; earlierVersions != null && i < earlierVersions.length; i++) {
            earlier.add(new AcceptedVersion.Earlier(earlierVersions[i], earlierManifestSha256s[i]));
        }
        return new AcceptedVersion(version, manifestSha256, announcedAtMillis, retired, earlier);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ActiveVersion that && accepted().equals(that.accepted());
    }

    @Override
    public int hashCode() {
        return accepted().hashCode();
    }

    @Override
    public String toString() {
        return accepted().toString();
    }
}
