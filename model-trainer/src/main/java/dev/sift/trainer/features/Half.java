package dev.sift.trainer.features;

/**
 * IEEE 754 half precision (binary16) conversions, rounding to nearest, ties to even: what Java 20's
 * {@code Float.floatToFloat16} and {@code Float.float16ToFloat} do, for the Java 17 this project
 * builds for.
 */
final class Half {

    private Half() {}

    /** {@code value} rounded to the nearest half-precision number, as its 16 bits. */
    static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int magnitude = bits & 0x7fffffff;
        if (magnitude >= 0x7f800000) { // infinity or NaN (a NaN stays a NaN)
            return (short)
                    (sign
                            | 0x7c00
                            | (magnitude > 0x7f800000 ? 0x200 | ((magnitude >>> 13) & 0x3ff) : 0));
        }
        if (magnitude >= 0x477ff000) { // 65520 and up round past the largest half, 65504
            return (short) (sign | 0x7c00);
        }
        if (magnitude < 0x38800000) { // below 2^-14: a subnormal half, or zero
            if (magnitude < 0x33000000) { // below 2^-25 (and 2^-25 itself ties to 0)
                return (short) sign;
            }
            int exponent = magnitude >>> 23;
            int significand = (magnitude & 0x7fffff) | 0x800000;
            int shift = 126 - exponent; // half subnormal = significand * 2^(exponent - 126)
            return (short) (sign | roundShift(significand, shift));
        }
        int half = ((((magnitude >>> 23) - 112) << 10) | ((magnitude & 0x7fffff) >>> 13));
        int rest = magnitude & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
            half++; // a carry into the exponent is the right result
        }
        return (short) (sign | half);
    }

    /** The float a half-precision number's 16 bits stand for, exactly. */
    static float toFloat(short half) {
        int bits = half & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1f;
        int significand = bits & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (significand << 13));
        }
        if (exponent == 0) {
            float magnitude = significand * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (significand << 13));
    }

    private static int roundShift(int value, int shift) {
        int kept = value >>> shift;
        int rest = value & ((1 << shift) - 1);
        int halfway = 1 << (shift - 1);
        if (rest > halfway || (rest == halfway && (kept & 1) != 0)) {
            kept++;
        }
        return kept;
    }
}
