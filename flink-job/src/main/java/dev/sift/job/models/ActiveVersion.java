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

    /** The manifest hash of the shadow version; null for no shadow (and in older records). */
    public String shadowManifestSha256;

    public long shadowVersion;

    /** The manifest hash of the canary version; null for no canary (and in older records). */
    public String canaryManifestSha256;

    public long canaryVersion;

    public double canaryPercent;

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
        if (accepted.shadow() != null) {
            stored.shadowVersion = accepted.shadow().version();
            stored.shadowManifestSha256 = accepted.shadow().manifestSha256();
        }
        if (accepted.canary() != null) {
            stored.canaryVersion = accepted.canary().version();
            stored.canaryManifestSha256 = accepted.canary().manifestSha256();
            stored.canaryPercent = accepted.canary().percent();
        }
        return stored;
    }

    public AcceptedVersion accepted() {
        List<AcceptedVersion.Earlier> earlier = new ArrayList<>();
        for (int i = 0; earlierVersions != null && i < earlierVersions.length; i++) {
            earlier.add(new AcceptedVersion.Earlier(earlierVersions[i], earlierManifestSha256s[i]));
        }
        return new AcceptedVersion(
                version,
                manifestSha256,
                announcedAtMillis,
                retired,
                earlier,
                shadowManifestSha256 == null
                        ? null
                        : new AcceptedVersion.Trial(shadowVersion, shadowManifestSha256, 0),
                canaryManifestSha256 == null
                        ? null
                        : new AcceptedVersion.Trial(
                                canaryVersion, canaryManifestSha256, canaryPercent));
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
