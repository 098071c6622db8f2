package dev.sift.trainer.cli;

import picocli.CommandLine.Option;

/**
 * {@code -h, --help} alone, for commands whose own {@code --version} names a model version:
 * picocli's {@code mixinStandardHelpOptions} would claim {@code --version} for the CLI's.
 */
final class HelpOption {

    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "Show this help message.")
    boolean help;
}
