package dev.sift.trainer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code sift-trainer}: makes models for the streaming job.
 *
 * <pre>
 * java -jar model-trainer/target/sift-trainer.jar corpus spamassassin --out data/spam.jsonl
 * java -jar model-trainer/target/sift-trainer.jar train --data data/spam.jsonl --model spam
 * java -jar model-trainer/target/sift-trainer.jar publish --run runs/spam
 * java -jar model-trainer/target/sift-trainer.jar announce --model spam --bootstrap-servers ...
 * java -jar model-trainer/target/sift-trainer.jar evaluate --model spam --data data/new-mail.jsonl
 * echo '{"id":"1","text":"WIN A PRIZE"}' | java -jar model-trainer/target/sift-trainer.jar predict --model spam
 * java -jar model-trainer/target/sift-trainer.jar corpus feedback --model spam --bootstrap-servers ... --out data/feedback.jsonl
 * </pre>
 */
@Command(
        name = "sift-trainer",
        mixinStandardHelpOptions = true,
        version = "sift-trainer 0.1.0",
        description = "Trains, evaluates, publishes and announces Sift classification heads.",
        subcommands = {
            CorpusCommand.class,
            ImportBertCommand.class,
            ImportEncoderCommand.class,
            TrainCommand.class,
            EvaluateCommand.class,
            PredictCommand.class,
            PublishCommand.class,
            AnnounceCommand.class,
            ListCommand.class,
            KeygenCommand.class,
            CommandLine.HelpCommand.class
        })
public final class SiftTrainer implements Runnable {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code: 0 success, 1 refused or failed, 2 bad usage. */
    public static int run(String... args) {
        return new CommandLine(new SiftTrainer())
                .setExecutionExceptionHandler(
                        (e, commandLine, parseResult) -> {
                            commandLine
                                    .getErr()
                                    .println(
                                            commandLine
                                                    .getColorScheme()
                                                    .errorText("error: " + e.getMessage()));
                            return 1;
                        })
                .execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(
                spec.commandLine(), "Name a subcommand; see 'sift-trainer --help'");
    }
}
