package dev.sift.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.model.bert.ImportEncoders;
import dev.sift.trainer.TinyData;
import dev.sift.trainer.data.JsonLines;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The small-encoder path end to end through the CLI, on the real all-MiniLM-L6-v2 int8 from its
 * Maven jar: import, train a head behind a cascade, publish, and answer through the job's serving
 * code.
 */
class SmallEncoderCommandsTest {

    @TempDir Path dir;

    @Test
    void importTrainPublishAndPredictOnMiniLmInt8() throws Exception {
        Path jar =
                ImportEncoders.jarOf(
                        getClass().getClassLoader().getResource("all-minilm-l6-v2-q.onnx"));
        Path data = dir.resolve("spam.jsonl");
        JsonLines.write(data, TinyData.spamAndHam(40, 1));

        TrainerRun imported = run("import-encoder", "--jar", jar.toString());
        assertThat(imported.exit()).as(imported.err()).isZero();
        assertThat(imported.out())
                .contains("all-minilm-l6-v2-int8")
                .contains("--encoder all-minilm-l6-v2-int8");

        TrainerRun trained =
                run(
                        "train",
                        "--data",
                        data.toString(),
                        "--model",
                        "spam",
                        "--encoder",
                        "all-minilm-l6-v2-int8",
                        "--max-len",
                        "64",
                        "--cascade",
                        "--feature-cache",
                        dir.resolve("features").toString(),
                        "--out",
                        dir.resolve("runs/spam").toString());
        assertThat(trained.exit()).as(trained.err()).isZero();
        // auto tries the poolings the encoder has: no pooler in an ONNX graph.
        assertThat(trained.out())
                .contains("validation loss by pooling")
                .contains("mean")
                .doesNotContain("pooler")
                .contains("cascade: ");

        TrainerRun published = run("publish", "--run", dir.resolve("runs/spam").toString());
        assertThat(published.exit()).as(published.err()).isZero();

        TrainerRun predicted =
                TrainerRun.of(
                        withRegistry("predict", "--model", "spam", "--version", "latest"),
                        "{\"id\":\"1\",\"text\":\"WIN a FREE cruise, call now\"}");
        assertThat(predicted.exit()).as(predicted.err()).isZero();
        assertThat(predicted.out())
                .contains("\"model\":\"spam\"")
                .contains("\"modelVersion\":1")
                .containsPattern("\"stage\":\"(ngram|encoder)\"");
    }

    @Test
    void fineTuningAnOnnxEncoderIsRefusedWithWhatToDo() throws Exception {
        Path jar =
                ImportEncoders.jarOf(
                        getClass().getClassLoader().getResource("all-minilm-l6-v2-q.onnx"));
        assertThat(run("import-encoder", "--jar", jar.toString()).exit()).isZero();
        Path data = dir.resolve("spam.jsonl");
        JsonLines.write(data, TinyData.spamAndHam(10, 1));

        TrainerRun trained =
                run(
                        "train",
                        "--data",
                        data.toString(),
                        "--model",
                        "spam",
                        "--fine-tune-layers",
                        "1",
                        "--feature-cache",
                        dir.resolve("features").toString());
        assertThat(trained.exit()).isNotZero();
        assertThat(trained.err()).contains("use --fine-tune-layers 0");
    }

    private TrainerRun run(String... args) {
        return TrainerRun.of(withRegistry(args), null);
    }

    private List<String> withRegistry(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--registry", dir.resolve("registry").toString()));
        return all;
    }
}
