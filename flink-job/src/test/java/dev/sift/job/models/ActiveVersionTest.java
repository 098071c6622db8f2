package dev.sift.job.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.serving.models.AcceptedVersion;
import org.junit.jupiter.api.Test;

/** What broadcast state stores is the serving module's record, field for field. */
class ActiveVersionTest {

    @Test
    void aRecordSurvivesTheRoundTripThroughState() {
        AcceptedVersion v1 = AcceptedVersion.after(null, 1, "a1", 100);
        AcceptedVersion v2 = AcceptedVersion.after(v1, 2, "b2", 200);
        AcceptedVersion v3 = AcceptedVersion.after(v2, 3, "c3", 300);

        assertThat(ActiveVersion.of(v3).accepted()).isEqualTo(v3);
        assertThat(v3.earlier())
                .containsExactly(
                        new AcceptedVersion.Earlier(2, "b2"), new AcceptedVersion.Earlier(1, "a1"));
        AcceptedVersion retired = AcceptedVersion.retired(3, 400);
        assertThat(ActiveVersion.of(retired).accepted()).isEqualTo(retired);
    }

    @Test
    void aRecordFromBeforeEarlierVersionsWereKeptHasNoneToFallBackOn() {
        ActiveVersion old = new ActiveVersion();
        old.version = 4;
        old.manifestSha256 = "d4";
        old.announcedAtMillis = 500;

        assertThat(old.accepted())
                .isEqualTo(new AcceptedVersion(4, "d4", 500, false, java.util.List.of()));
    }
}
