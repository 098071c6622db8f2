package dev.sift.trainer.features;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Half precision conversions against their definition and, where the JDK has them, its own. */
class HalfTest {

    @Test
    void everyHalfSurvivesARoundTripThroughFloat() {
        for (int bits = 0; bits <= 0xffff; bits++) {
            float value = Half.toFloat((short) bits);
            if (Float.isNaN(value)) {
                assertThat(Float.isNaN(Half.toFloat(Half.fromFloat(value)))).isTrue();
                continue;
            }
            assertThat(Half.fromFloat(value) & 0xffff).as("half %04x", bits).isEqualTo(bits);
        }
    }

    @Test
    void knownValues() {
        assertThat(Half.toFloat((short) 0x3c00)).isEqualTo(1f);
        assertThat(Half.toFloat((short) 0x7bff)).isEqualTo(65504f);
        assertThat(Half.toFloat((short) 0x0001)).isEqualTo(0x1p-24f);
        assertThat(Half.fromFloat(1f + 0x1p-11f)).isEqualTo((short) 0x3c00); // tie to even
        assertThat(Half.fromFloat(1f + 0x1p-11f + 0x1p-20f)).isEqualTo((short) 0x3c01);
        assertThat(Half.fromFloat(65520f)).isEqualTo((short) 0x7c00); // rounds to infinity
        assertThat(Half.fromFloat(-0x1p-25f)).isEqualTo((short) 0x8000); // ties to -0
    }

    /** Java 20 and later convert too; on such a JDK, both agree on every float drawn. */
    @Test
    void agreesWithTheJdkWhereItConverts() throws Exception {
        Method toHalf;
        Method toFloat;
        try {
            toHalf = Float.class.getMethod("floatToFloat16", float.class);
            toFloat = Float.class.getMethod("float16ToFloat", short.class);
        } catch (NoSuchMethodException olderJdk) {
            Assumptions.abort("this JDK has no float16 conversions to compare with");
            return;
        }
        Random random = new Random(16);
        for (int i = 0; i < 2_000_000; i++) {
            // Raw bits cover every exponent; the Gaussian draws cover activations' range.
            float value =
                    i % 2 == 0
                            ? Float.intBitsToFloat(random.nextInt())
                            : (float) (random.nextGaussian() * 8);
            short expected = (short) toHalf.invoke(null, value);
            if (Float.isNaN(value)) {
                assertThat(Float.isNaN(Half.toFloat(Half.fromFloat(value)))).isTrue();
                continue;
            }
            assertThat(Half.fromFloat(value)).as("%s", value).isEqualTo(expected);
        }
        for (int bits = 0; bits <= 0xffff; bits++) {
            float expected = (float) toFloat.invoke(null, (short) bits);
            float actual = Half.toFloat((short) bits);
            if (!Float.isNaN(expected)) {
                assertThat(actual).as("half %04x", bits).isEqualTo(expected);
            }
        }
    }
}
