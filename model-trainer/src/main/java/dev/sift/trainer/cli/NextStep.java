package dev.sift.trainer.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The command to run after a step, printed at its end so that the way on from "train" to "publish"
 * to "announce" is never a guess. Values that a shell would split or expand are single-quoted.
 */
final class NextStep {

    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./:=@,+%-]+");

    private NextStep() {}

    /** {@code next: sift-trainer <subcommand> <args...>}. */
    static String line(String subcommand, List<String> args) {
        List<String> words = new ArrayList<>();
        words.add("sift-trainer");
        words.add(subcommand);
        for (String arg : args) {
            words.add(PLAIN.matcher(arg).matches() ? arg : "'" + arg.replace("'", "'\\''") + "'");
        }
        return "next: " + String.join(" ", words);
    }
}
