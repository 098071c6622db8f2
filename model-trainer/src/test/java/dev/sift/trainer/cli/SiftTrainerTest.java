package dev.sift.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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
                "corpus subject-body",
                "import-bert",
                "train",
                "publish",
                "announce",
                "list",
                "keygen"
            })
    void everyCommandHasHelp(String command) {
        String[] args = (command + " --help").trim().split(" ");

        assertThat(SiftTrainer.run(args)).isZero();
        assertThat(out.toString()).contains("Usage: sift-trainer");
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
    void anUnknownSubcommandIsAUsageError() {
        assertThat(SiftTrainer.run("fly")).isEqualTo(2);
        assertThat(err.toString()).contains("Unmatched argument at index 0: 'fly'");
    }
}
