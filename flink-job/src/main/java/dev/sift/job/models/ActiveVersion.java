package dev.sift.job.models;

import java.util.Objects;

/**
 * What broadcast state remembers per model: the version to serve and its manifest hash. On restore
 * every subtask reloads exactly this. A Flink POJO.
 */
public final class ActiveVersion {

    public long version;
    public String manifestSha256;

    public ActiveVersion() {}

    public ActiveVersion(long version, String manifestSha256) {
        this.version = version;
        this.manifestSha256 = manifestSha256;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ActiveVersion that
                && version == that.version
                && Objects.equals(manifestSha256, that.manifestSha256);
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, manifestSha256);
    }

    @Override
    public String toString() {
        return "v" + version;
    }
}
