package dev.sift.job.config;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The job's command line: {@code --config FILE} (a properties file of {@link SiftOptions}) and
 * every option as a flag, {@code --key=value} or {@code --key value}, flags winning over the file.
 * Picocli parses it, with one option per {@link SiftOptions} entry, so an unknown or misspelt key
 * is an error that suggests the near ones, and {@code --help} lists them all with their defaults.
 */
public final class JobArguments {

    private static final String CONFIG = "--config";
    private static final String HELP = "--help";

    private JobArguments() {}

    /** Whether the arguments ask for {@link #usage()} instead of a job. */
    public static boolean helpRequested(String... args) {
        for (String arg : args) {
            if (arg.equals(HELP) || arg.equals("-h")) {
                return true;
            }
        }
        return false;
    }

    /** Every option with its description and default, as {@code --help} prints it. */
    public static String usage() {
        StringWriter text = new StringWriter();
        commandLine().usage(new PrintWriter(text), CommandLine.Help.Ansi.OFF);
        return text.toString();
    }

    /**
     * The configuration the arguments give; an unknown key, a flag without a value or a bad value
     * is an {@link IllegalArgumentException} that names it.
     */
    public static Configuration parse(String... args) throws IOException {
        ParseResult parsed;
        try {
            parsed = commandLine().parseArgs(args);
        } catch (CommandLine.UnmatchedArgumentException e) {
            List<String> near =
                    e.getUnmatched().stream().flatMap(arg -> nearKeys(arg).stream()).toList();
            throw new IllegalArgumentException(
                    e.getMessage()
                            + (near.isEmpty()
                                    ? "; valid options: " + validKeys()
                                    : "; did you mean --" + String.join(" or --", near) + "?"),
                    e);
        } catch (CommandLine.ParameterException e) {
            throw new IllegalArgumentException(e.getMessage() + " (see --help)", e);
        }
        Map<String, String> values = new HashMap<>();
        Path configFile = parsed.matchedOptionValue(CONFIG, null);
        if (configFile != null) {
            Properties file = new Properties();
            try (Reader reader = Files.newBufferedReader(configFile)) {
                file.load(reader);
            }
            file.forEach((key, value) -> values.put(key.toString(), value.toString().trim()));
            for (String key : values.keySet()) {
                if (SiftOptions.ALL.stream().noneMatch(o -> o.key().equals(key))) {
                    throw new IllegalArgumentException(
                            "Unknown option '"
                                    + key
                                    + "' in "
                                    + configFile
                                    + "; valid options: "
                                    + validKeys());
                }
            }
        }
        for (OptionSpec option : parsed.matchedOptions()) {
            if (!option.longestName().equals(CONFIG) && !option.usageHelp()) {
                values.put(option.longestName().substring(2), option.getValue());
            }
        }
        Configuration config = Configuration.fromMap(values);
        for (ConfigOption<?> option : SiftOptions.ALL) {
            try {
                config.get(option);
            } catch (IllegalArgumentException e) {
                // Flink names the accepted values (of an enum, say) only in the innermost cause.
                Throwable cause = e;
                while (cause.getCause() != null) {
                    cause = cause.getCause();
                }
                throw new IllegalArgumentException(
                        "Bad value for "
                                + option.key()
                                + ": "
                                + e.getMessage()
                                + (cause == e ? "" : " " + cause.getMessage()),
                        e);
            }
        }
        return config;
    }

    private static CommandLine commandLine() {
        CommandSpec spec = CommandSpec.create().name("sift-job");
        spec.usageMessage()
                .description(
                        "Classifies the requests topic into the results topic with the models"
                                + " the registry's announcements name.")
                .sortOptions(false)
                .abbreviateSynopsis(true)
                .width(120)
                .longOptionsMaxWidth(48);
        spec.addOption(
                OptionSpec.builder(CONFIG)
                        .paramLabel("FILE")
                        .type(Path.class)
                        .description("Properties file of these options; flags win over it.")
                        .build());
        spec.addOption(
                OptionSpec.builder(HELP, "-h")
                        .usageHelp(true)
                        .description("Prints this list and exits.")
                        .build());
        for (ConfigOption<?> option : SiftOptions.ALL) {
            spec.addOption(
                    OptionSpec.builder("--" + option.key())
                            .paramLabel("VALUE")
                            .type(String.class)
                            .description(describe(option))
                            .build());
        }
        // A flag given twice keeps the last, as before picocli: scripts append their overrides.
        return new CommandLine(spec)
                .setAbbreviatedOptionsAllowed(false)
                .setOverwrittenOptionsAllowed(true);
    }

    private static List<String> validKeys() {
        return SiftOptions.ALL.stream().map(ConfigOption::key).sorted().toList();
    }

    /** Keys within a few typing errors of {@code arg}'s, nearest first; at most three. */
    private static List<String> nearKeys(String arg) {
        String key = arg.replaceFirst("^-+", "").replaceFirst("=.*", "");
        int allowed = Math.max(4, key.length() / 4);
        return validKeys().stream()
                .filter(k -> editDistance(k, key) <= allowed)
                .sorted(Comparator.comparingInt(k -> editDistance(k, key)))
                .limit(3)
                .toList();
    }

    private static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    /**
     * An option's first sentence and its default, a line or two each; the rest of its description
     * is in {@link SiftOptions}, and docs/job.md explains the options by topic.
     */
    private static String describe(ConfigOption<?> option) {
        String text = SiftOptions.describe(option);
        int end = text.indexOf(". ");
        String first = end < 0 ? text : text.substring(0, end + 1);
        if (option.hasDefaultValue()) {
            return first + " Default: " + option.defaultValue() + ".";
        }
        return text.contains("Required.") && !first.contains("Required.")
                ? first + " Required."
                : first;
    }
}
