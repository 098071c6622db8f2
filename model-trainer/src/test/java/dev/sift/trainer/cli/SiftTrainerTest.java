package dev.sift.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.trainer.TinyData;
import dev.sift.trainer.data.Example;
import dev.sift.trainer.data.JsonLines;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

class SiftTrainerTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream originalOut;
    private PrintStream originalErr;

    @BeforeEach
    void capture() {
        originalOut = System.out;
        originalErr = System.err;
        System.setOut(new PrintStream(out, true));
        System.setErr(new PrintStream(err, true));
    }

    @AfterEach
    void restore() {
        System.setOut(originalOut);
        System.setErr(originalErr);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "corpus",
                "corpus spamassassin",
                "corpus reuters",
                "corpus subject-body",
                "import-bert",
                "import-encoder",
                "train",
                "publish",
                "announce",
                "list",
                "keygen",
                "evaluate",
                "predict"
            })
    void everyCommandHasHelp(String command) {
        String[] args = (command + " --help").trim().split(" ");

        assertThat(SiftTrainer.run(args)).isZero();
        assertThat(out.toString()).contains("Usage: sift-trainer");
        assertThat(err.toString())
                .as("picocli's warnings, e.g. a bare % in a description")
                .isEmpty();
    }

    @Test
    void aMissingOptionSaysWhichAndExitsWithUsageError() {
        assertThat(SiftTrainer.run("train", "--model", "spam")).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required option: '--data=<data>'");
    }

    @Test
    void aBadValueSaysWhatToUse(@TempDir Path dir) throws Exception {
        Path data = Files.writeString(dir.resolve("d.jsonl"), "{\"text\":\"a\",\"label\":\"x\"}\n");

        int code =
                SiftTrainer.run(
                        "train",
                        "--data",
                        data.toString(),
                        "--model",
                        "spam",
                        "--pooling",
                        "max",
                        "--registry",
                        dir.toString());

        assertThat(code).isEqualTo(1);
        assertThat(err.toString())
                .contains("Unknown pooling 'max'; expected one of [cls, pooler, mean]");
    }

    @Test
    void fineTuningEveryLayerIsRefusedWithTheMostTheEncoderAllows(@TempDir Path dir)
            throws Exception {
        Path registry = dir.resolve("registry");
        TinyBertEncoder.buildInto(ModelRegistry.at(registry).encodersDir());
        Path data = dir.resolve("train.jsonl");
        JsonLines.write(data, TinyData.spamAndHam(10, 1));

        int code =
                SiftTrainer.run(
                        "train",
                        "--data",
                        data.toString(),
                        "--model",
                        "spam",
                        "--fine-tune-layers",
                        String.valueOf(TinyBertEncoder.LAYERS),
                        "--registry",
                        registry.toString());

        assertThat(code).isEqualTo(1);
        assertThat(err.toString())
                .contains(
                        "--fine-tune-layers takes 0 to "
                                + (TinyBertEncoder.LAYERS - 1)
                                + " on tiny-bert");
    }

    @Test
    void anEmptyRegistrySaysHowToImportAnEncoder(@TempDir Path dir) throws Exception {
        Path data = Files.writeString(dir.resolve("d.jsonl"), "{\"text\":\"a\",\"label\":\"x\"}\n");

        int code =
                SiftTrainer.run(
                        "train",
                        "--data",
                        data.toString(),
                        "--model",
                        "spam",
                        "--registry",
                        dir.resolve("empty").toString());

        assertThat(code).isEqualTo(1);
        assertThat(err.toString())
                .contains("holds 0 encoders; import one with 'sift-trainer import-bert'");
    }

    @Test
    void everyOptionWithADefaultShowsItInHelp() {
        List<String> missing = new ArrayList<>();
        collectOptionsHidingTheirDefault(new CommandLine(new SiftTrainer()), missing);

        assertThat(missing).isEmpty();
    }

    private static void collectOptionsHidingTheirDefault(
            CommandLine command, List<String> missing) {
        for (OptionSpec option : command.getCommandSpec().options()) {
            boolean hasDefault = option.defaultValue() != null || option.initialValue() != null;
            boolean flag = option.arity().max() == 0;
            if (option.usageHelp() || option.versionHelp() || flag || !hasDefault) {
                continue;
            }
            String value = option.defaultValueString();
            if (!String.join(" ", option.renderedDescription()).contains(value)) {
                missing.add(
                        command.getCommandName() + " " + option.longestName() + " (" + value + ")");
            }
        }
        command.getSubcommands()
                .values()
                .forEach(sub -> collectOptionsHidingTheirDefault(sub, missing));
    }

    @Test
    void corpusReutersWritesBothSplitsFromAPathAndSaysWhatToRunNext(@TempDir Path dir) {
        Path train = dir.resolve("topic-train.jsonl");
        Path test = dir.resolve("topic-test.jsonl");

        int code =
                SiftTrainer.run(
                        "corpus",
                        "reuters",
                        "--from",
                        "src/test/resources/reuters",
                        "--train-out",
                        train.toString(),
                        "--test-out",
                        test.toString());

        assertThat(code).as(err.toString()).isZero();
        assertThat(train).isRegularFile();
        assertThat(test).isRegularFile();
        assertThat(out.toString())
                .contains("4 training stories {corn=2, grain=1, other=1} written to " + train)
                .contains("2 test stories {corn=1, grain=1} written to " + test)
                .contains(
                        "next: sift-trainer train --data "
                                + train
                                + " --test-data "
                                + test
                                + " --model topic");
    }

    @Test
    void trainAndPublishSayWhereTheirOutputWentAndWhatToRunNext(@TempDir Path dir)
            throws Exception {
        Path registry = dir.resolve("my registry");
        TinyBertEncoder.buildInto(ModelRegistry.at(registry).encodersDir());
        Path data = dir.resolve("train.jsonl");
        Path test = dir.resolve("test.jsonl");
        JsonLines.write(data, TinyData.spamAndHam(40, 1));
        JsonLines.write(test, TinyData.spamAndHam(7, 2));
        Path run = dir.resolve("runs/spam");

        int trained =
                SiftTrainer.run(
                        "train",
                        "--data",
                        data.toString(),
                        "--test-data",
                        test.toString(),
                        "--model",
                        "spam",
                        "--pooling",
                        "cls",
                        "--max-len",
                        "32",
                        "--registry",
                        registry.toString(),
                        "--feature-cache",
                        dir.resolve("features").toString(),
                        "--out",
                        run.toString());

        assertThat(trained).as(err.toString()).isZero();
        assertThat(out.toString())
                .contains("on 14 test examples")
                .containsPattern("  ham +7 +[01]\\.\\d{4} +[01]\\.\\d{4} +[01]\\.\\d{4}")
                .contains("fine-tuned the top 1 layer(s)")
                .containsPattern(
                        "TF-IDF baseline: accuracy [01]\\.\\d{4}, macro-F1 [01]\\.\\d{4}, log-loss"
                            + " \\d+\\.\\d{4}, ECE [01]\\.\\d{4} on the same 14 test examples; fit"
                            + " \\d+\\.\\d s \\(TF-IDF char 2-5-grams \\+ logistic regression .*,"
                            + " whole text; the model reads the first 32 tokens\\)")
                .contains(
                        "run written to "
                                + run
                                + " (top.bin, head.bin, confidence.json, run.json, report.html)")
                .contains(
                        "next: sift-trainer publish --run "
                                + run
                                + " --registry '"
                                + registry
                                + "'");

        JsonNode runJson = new ObjectMapper().readTree(run.resolve("run.json").toFile());
        JsonNode tfidf = runJson.path("tfidfBaseline");
        assertThat(tfidf.path("description").asText())
                .startsWith("TF-IDF char 2-5-grams + logistic regression");
        assertThat(tfidf.path("metrics").path("test_examples").asDouble()).isEqualTo(14);
        assertThat(tfidf.path("metrics").path("accuracy").asDouble()).isBetween(0.0, 1.0);
        assertThat(tfidf.path("errorsByGroup").has("spam")).isTrue();
        assertThat(tfidf.path("fitMillis").isIntegralNumber()).isTrue();
        assertThat(Files.readString(run.resolve("report.html")))
                .contains("<th>TF-IDF baseline</th>")
                .contains("<th>TF-IDF baseline errors</th>")
                .containsPattern(
                        "<tr><td>spam</td><td>7</td><td>\\d+</td><td>[\\d.]+%</td><td>\\d+</td></tr>")
                .containsPattern(
                        "<p>TF-IDF baseline: TF-IDF char 2-5-grams .*; fitted on the same"
                                + " training split in \\d+\\.\\d s");

        int published =
                SiftTrainer.run(
                        "publish", "--run", run.toString(), "--registry", registry.toString());

        assertThat(published).as(err.toString()).isZero();
        assertThat(out.toString())
                .contains("published spam v1 at " + registry.resolve("spam/1"))
                .contains(
                        "next: sift-trainer announce --model spam --version 1 --registry '"
                                + registry
                                + "' --bootstrap-servers HOST:PORT");

        int withoutKafka =
                SiftTrainer.run("announce", "--model", "spam", "--registry", registry.toString());
        assertThat(withoutKafka).isEqualTo(1);
        assertThat(err.toString())
                .contains("Missing --bootstrap-servers")
                .contains("--registry-only");

        int recorded =
                SiftTrainer.run(
                        "announce",
                        "--model",
                        "spam",
                        "--registry",
                        registry.toString(),
                        "--registry-only");
        assertThat(recorded).as(err.toString()).isZero();
        assertThat(out.toString()).contains("recorded ACTIVATE spam v1");
        assertThat(ModelRegistry.at(registry).recordedAnnouncement("spam")).isPresent();

        String[] base = {"announce", "--model", "spam", "--registry", registry.toString()};
        assertThat(run(base, "--shadow", "--registry-only")).isEqualTo(1);
        assertThat(err.toString()).contains("a trial (SHADOW) is for running jobs");
        assertThat(run(base, "--canary", "0", "--bootstrap-servers", "localhost:1")).isEqualTo(1);
        assertThat(err.toString()).contains("--canary takes a percent above 0 and at most 100");
        assertThat(run(base, "--shadow", "--canary", "5", "--bootstrap-servers", "localhost:1"))
                .isEqualTo(1);
        assertThat(err.toString()).contains("announce them one at a time");
        assertThat(run(base, "--action", "stop-everything", "--registry-only")).isEqualTo(1);
        assertThat(err.toString()).contains("stop-shadow or stop-canary");
    }

    @Test
    void blendTfidfSaysWhatItChoseAndPublishesAFineTunedBlend(@TempDir Path dir) throws Exception {
        Path registry = dir.resolve("registry");
        TinyBertEncoder.buildInto(ModelRegistry.at(registry).encodersDir());
        Path data = dir.resolve("train.jsonl");
        JsonLines.write(data, TinyData.spamAndHam(40, 1));
        Path run = dir.resolve("runs/blend");

        int trained =
                SiftTrainer.run(
                        "train",
                        "--data",
                        data.toString(),
                        "--model",
                        "spam",
                        "--max-len",
                        "32",
                        "--fine-tune-epochs",
                        "1",
                        "--blend-tfidf",
                        "--registry",
                        registry.toString(),
                        "--feature-cache",
                        dir.resolve("features").toString(),
                        "--out",
                        run.toString());

        assertThat(trained).as(err.toString()).isZero();
        assertThat(out.toString())
                .containsPattern(
                        "TF-IDF blended in: encoder 0\\.\\d\\d, TF-IDF 0\\.\\d\\d \\(validation"
                                + " log-loss \\d\\.\\d{4}; encoder alone \\d\\.\\d{4}")
                .contains("  encoder alone: accuracy ")
                .contains(
                        "run written to "
                                + run
                                + " (top.bin, head.bin, ngrams.bin, confidence.json, run.json,"
                                + " report.html)");
        assertThat(Files.readString(run.resolve("report.html"))).contains("TF-IDF blended in");

        int published =
                SiftTrainer.run(
                        "publish", "--run", run.toString(), "--registry", registry.toString());

        assertThat(published).as(err.toString()).isZero();
        ModelBundle version = ModelRegistry.at(registry).open("spam", 1);
        assertThat(version.isFineTuned()).isTrue();
        assertThat(version.isBlended()).isTrue();
    }

    @Test
    void autoPoolingKeepsTheBestHeadAloneButClsForFineTuning(@TempDir Path dir) throws Exception {
        Path registry = dir.resolve("registry");
        TinyBertEncoder.buildInto(ModelRegistry.at(registry).encodersDir());
        Path data = dir.resolve("train.jsonl");
        JsonLines.write(data, TinyData.spamAndHam(40, 2)); // mean pooling fits these best

        String headAlone = trainedPooling(dir, registry, data, "0");
        String fineTuned = trainedPooling(dir, registry, data, "1");

        assertThat(headAlone).as("the data must favour another pooling").isNotEqualTo("cls");
        assertThat(fineTuned).isEqualTo("cls");
        assertThat(out.toString())
                .containsPattern("by pooling: cls .* mean .*; fine-tuning reads cls");
    }

    private String trainedPooling(Path dir, Path registry, Path data, String layers)
            throws Exception {
        Path run = dir.resolve("runs/k" + layers);
        int exit =
                SiftTrainer.run(
                        "train",
                        "--data",
                        data.toString(),
                        "--model",
                        "spam",
                        "--max-len",
                        "32",
                        "--fine-tune-layers",
                        layers,
                        "--fine-tune-epochs",
                        "1",
                        "--registry",
                        registry.toString(),
                        "--feature-cache",
                        dir.resolve("features").toString(),
                        "--out",
                        run.toString());
        assertThat(exit).as(err.toString()).isZero();
        return new ObjectMapper()
                .readTree(run.resolve("run.json").toFile())
                .path("pooling")
                .asText();
    }

    @Test
    void aTestSetWithALabelTheTrainingDataLacksIsRefused(@TempDir Path dir) throws Exception {
        Path registry = dir.resolve("registry");
        TinyBertEncoder.buildInto(ModelRegistry.at(registry).encodersDir());
        Path data = dir.resolve("train.jsonl");
        Path test = dir.resolve("test.jsonl");
        JsonLines.write(data, TinyData.spamAndHam(10, 1));
        JsonLines.write(test, List.of(Example.text("win cash", "phishing")));

        int code =
                SiftTrainer.run(
                        "train",
                        "--data",
                        data.toString(),
                        "--test-data",
                        test.toString(),
                        "--model",
                        "spam",
                        "--max-len",
                        "32",
                        "--registry",
                        registry.toString(),
                        "--feature-cache",
                        dir.resolve("features").toString());

        assertThat(code).isEqualTo(1);
        assertThat(err.toString())
                .contains(test + " has labels [phishing] that " + data + " never uses");
    }

    @Test
    void anUnknownSubcommandIsAUsageError() {
        assertThat(SiftTrainer.run("fly")).isEqualTo(2);
        assertThat(err.toString()).contains("Unmatched argument at index 0: 'fly'");
    }

    private static int run(String[] base, String... more) {
        String[] args = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        return SiftTrainer.run(args);
    }
}
