package dev.sift.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.model.bert.ImportEncoders;
import dev.sift.trainer.TinyData;
import dev.sift.trainer.data.JsonLines;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fine-tuning a small ONNX encoder end to end on all-MiniLM-L6-v2 float32 from its Maven jar:
 * import, train its top two layers (started from the graph's own weights, on trunks cut from the
 * graph), publish, and evaluate the published version through the job's serving code on the test
 * file the run was scored on.
 */
class SmallEncoderFineTuneTest {

    @TempDir Path dir;

    @Test
    void aFineTunedMiniLmTopServesWhatItWasScoredAt() throws Exception {
        Path jar =
                ImportEncoders.jarOf(
                        getClass().getClassLoader().getResource("all-minilm-l6-v2.onnx"));
        run(List.of("import-encoder", "--jar", jar.toString()));
        Path data = dir.resolve("spam.jsonl");
        Path test = dir.resolve("test.jsonl");
        JsonLines.write(data, TinyData.spamAndHam(30, 1));
        JsonLines.write(test, TinyData.spamAndHam(10, 2));
        Path runDir = dir.resolve("run");
        TrainerRun trained =
                run(
                        List.of(
                                "train",
                                "--data",
                                data.toString(),
                                "--test-data",
                                test.toString(),
                                "--model",
                                "spam",
                                "--encoder",
                                "all-minilm-l6-v2-float32",
                                "--max-len",
                                "64",
                                "--fine-tune-layers",
                                "2",
                                "--fine-tune-epochs",
                                "1",
                                "--feature-cache",
                                dir.resolve("features").toString(),
                                "--out",
                                runDir.toString()));
        assertThat(trained.out()).contains("fine-tuned the top 2 layer(s)");
        run(List.of("publish", "--run", runDir.toString()));
        ObjectMapper json = new ObjectMapper();
        JsonNode scored = json.readTree(runDir.resolve("run.json").toFile());
        assertThat(scored.path("fineTune").path("topLayers").asInt()).isEqualTo(2);
        double trainerLoss = scored.path("metrics").path("log_loss").asDouble(Double.NaN);
        double servedLoss = servedLogLoss(1, test);
        // Measured: 5e-8 apart; each of 20 probabilities moves the mean by its own change.
        assertThat(servedLoss).isCloseTo(trainerLoss, within(1e-6));

        // The same run served with 8-bit matrix multiplies: a version of its own format, whose
        // answers move a little from the float32 top's.
        run(List.of("publish", "--run", runDir.toString(), "--int8-top", "--force"));
        JsonNode manifest =
                json.readTree(
                        dir.resolve("registry")
                                .resolve("spam")
                                .resolve("2")
                                .resolve("manifest.json")
                                .toFile());
        assertThat(manifest.path("formatVersion").asInt()).isEqualTo(5);
        assertThat(manifest.path("fineTune").path("precision").asText()).isEqualTo("int8");
        double int8Loss = servedLogLoss(2, test);
        // Measured: 0.0124 against the float32 top's 0.0132; float32 is 5e-8 away, as above.
        assertThat(int8Loss).isCloseTo(trainerLoss, within(0.005));
        assertThat(Math.abs(int8Loss - trainerLoss)).isGreaterThan(1e-5);
    }

    /** The test log-loss of {@code spam} v{@code version}, as {@code evaluate} serves it. */
    private double servedLogLoss(int version, Path test) throws Exception {
        Path out = dir.resolve("eval-v" + version);
        run(
                List.of(
                        "evaluate",
                        "--model",
                        "spam",
                        "--version",
                        Integer.toString(version),
                        "--data",
                        test.toString(),
                        "--out",
                        out.toString()));
        return new ObjectMapper()
                .readTree(out.resolve("evaluation.json").toFile())
                .findValue("log_loss")
                .asDouble(Double.NaN);
    }

    private TrainerRun run(List<String> args) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of("--registry", dir.resolve("registry").toString()));
        TrainerRun run = TrainerRun.of(all, null);
        assertThat(run.exit()).as("%s%n%s", args, run.err()).isZero();
        return run;
    }
}
