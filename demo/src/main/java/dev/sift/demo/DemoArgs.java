package dev.sift.demo;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The demo's flags: {@code --registry DIR}, {@code --duration 120s} (stop by itself; default: run
 * until Ctrl-C), {@code --rate 4} (mails per second), {@code --swap-after 30s} and {@code
 * --tally-after 30s}, {@code --shadow-for 30s} (how long the third version runs in shadow before
 * the feedback judges it), {@code --train-per-group 120} (mails per corpus group for the version
 * trained midway; fewer train faster, as DemoITCase does), and {@code --encoder} (one of {@link
 * #ENCODERS}, bge-small float32 by default).
 */
record DemoArgs(
        Path registry,
        Duration duration,
        double ratePerSecond,
        Duration beforeSwap,
        Duration afterSwap,
        Duration shadowFor,
        int trainPerGroup,
        String encoder) {

    /** The encoders the demo imports from its class path when the registry lacks them. */
    static final List<String> ENCODERS = List.of("bge-small-en-v1.5-float32", "bert-base-uncased");

    static DemoArgs parse(String... args) {
        Path registry = Path.of("registry");
        Duration duration = null;
        double rate = 4;
        Duration beforeSwap = Duration.ofSeconds(30);
        Duration afterSwap = Duration.ofSeconds(30);
        Duration shadowFor = Duration.ofSeconds(30);
        int trainPerGroup = 120;
        String encoder = ENCODERS.get(0);
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (i + 1 >= args.length) {
                throw usage(flag + " needs a value");
            }
            String value = args[++i];
            switch (flag) {
                case "--registry" -> registry = Path.of(value);
                case "--duration" -> duration = duration(flag, value);
                case "--rate" -> rate = Double.parseDouble(value);
                case "--swap-after" -> beforeSwap = duration(flag, value);
                case "--tally-after" -> afterSwap = duration(flag, value);
                case "--shadow-for" -> shadowFor = duration(flag, value);
                case "--train-per-group" -> trainPerGroup = Integer.parseInt(value);
                case "--encoder" -> encoder = value;
                default -> throw usage("unknown flag " + flag);
            }
        }
        if (rate <= 0) {
            throw usage("--rate must be positive");
        }
        if (trainPerGroup < 10) {
            throw usage("--train-per-group must be at least 10");
        }
        if (!ENCODERS.contains(encoder)) {
            throw usage("--encoder takes one of " + ENCODERS + ", not '" + encoder + "'");
        }
        return new DemoArgs(
                registry, duration, rate, beforeSwap, afterSwap, shadowFor, trainPerGroup, encoder);
    }

    private static Duration duration(String flag, String value) {
        String v = value.trim().toLowerCase(java.util.Locale.ROOT);
        try {
            if (v.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
            }
            if (v.endsWith("s")) {
                return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
            }
            if (v.endsWith("m")) {
                return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
            }
            return Duration.ofSeconds(Long.parseLong(v));
        } catch (NumberFormatException e) {
            throw usage(flag + " takes a duration like 90s, 2m or 500ms, not '" + value + "'");
        }
    }

    private static IllegalArgumentException usage(String problem) {
        return new IllegalArgumentException(
                problem
                        + ". Flags: --registry DIR --duration 120s --rate 4 --swap-after 30s"
                        + " --tally-after 30s --shadow-for 30s --train-per-group 120 --encoder "
                        + ENCODERS.get(0));
    }
}
