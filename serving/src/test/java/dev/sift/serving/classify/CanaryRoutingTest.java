package dev.sift.serving.classify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.serving.request.ClassifyRequest;
import java.nio.charset.StandardCharsets;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CanaryRoutingTest {

    private static final int KEYS = 100_000;

    @ParameterizedTest(name = "{0}%")
    @ValueSource(doubles = {0.5, 5, 30, 99})
    void picksCloseToItsShareOfManyKeys(double percent) {
        int picked = 0;
        for (int i = 0; i < KEYS; i++) {
            picked += CanaryRouting.picks("spam", request("mail-" + i, null), percent) ? 1 : 0;
        }
        // four standard deviations of a binomial count: a miss means a skewed hash, not bad luck
        double expected = KEYS * percent / 100;
        double sigma = Math.sqrt(expected * (1 - percent / 100));
        assertThat((double) picked).isCloseTo(expected, Offset.offset(4 * sigma));
    }

    @Test
    void theKeyDecidesWhereThereIsOneAndTheIdWhereThereIsNot() {
        int sameAsKeyless = 0;
        for (int i = 0; i < 1_000; i++) {
            boolean byKey = CanaryRouting.picks("spam", request("id-" + i, "user-7"), 50);
            assertThat(CanaryRouting.picks("spam", request("other-" + i, "user-7"), 50))
                    .as("one key, one version, whatever the id")
                    .isEqualTo(byKey);
            sameAsKeyless +=
                    CanaryRouting.picks("spam", request("id-" + i, null), 50) == byKey ? 1 : 0;
        }
        assertThat(sameAsKeyless).as("without a key the id decides").isBetween(350, 650);
    }

    @Test
    void twoModelsCanariesPickIndependentSlices() {
        int both = 0;
        for (int i = 0; i < KEYS; i++) {
            ClassifyRequest request = request("mail-" + i, null);
            both +=
                    CanaryRouting.picks("spam", request, 10)
                                    && CanaryRouting.picks("topic", request, 10)
                            ? 1
                            : 0;
        }
        assertThat(both).as("about 1%% of keys, not 10%%").isBetween(800, 1_200);
    }

    @Test
    void theBucketOfAKeyIsFixed() {
        // A restored or rescaled job, or the next release, must route every record as before:
        // the hash is a contract, pinned here.
        assertThat(CanaryRouting.bucket("spam", bytes("mail-1"))).isEqualTo(423);
        assertThat(CanaryRouting.bucket("spam", bytes("mail-2"))).isEqualTo(5877);
        assertThat(CanaryRouting.bucket("spam", bytes("user-7"))).isEqualTo(7968);
    }

    private static ClassifyRequest request(String id, String key) {
        ClassifyRequest request = new ClassifyRequest();
        request.id = id;
        request.originalKey = key == null ? null : bytes(key);
        return request;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
