package dev.sift.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sift.model.bert.ImportEncoders;
import dev.sift.model.bert.OnnxEncoderImporter;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.trainer.TinyData;
import dev.sift.trainer.data.JsonLines;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "Smaller encoders, and a cascade" block, run as written on real small encoders from
 * their Maven jars (bge-small int8 here, all-MiniLM-L6-v2 int8 beside it): import, train a head
 * behind a cascade, publish; then an answer through the job's serving code says which stage gave
 * it. The one difference: 80 generated mails stand in for the SpamAssassin corpus, and the
 * registry, data and runs live in a temporary folder.
 */
class SmallEncoderCommandsTest {

    private static final Pattern BLOCK =
            Pattern.compile(
                    "### Smaller encoders, and a cascade\\s+```bash\\n(.*?)```", Pattern.DOTALL);

    @TempDir Path dir;

    @Test
    void theReadmesSmallEncoderCommandsRunAsWritten() throws Exception {
        Path data = dir.resolve("data/spam.jsonl");
        Files.createDirectories(data.getParent());
        JsonLines.write(data, TinyData.spamAndHam(40, 1));
        List<String> ran = new ArrayList<>();

        for (String line : readmeBlock()) {
            String command = line.replaceFirst("\\s+#.*$", "").trim();
            if (command.equals("mvn -q -pl model-core test-compile exec:java@import-encoders")) {
                // What ImportEncoders does with the jars on its class path, on the ones here.
                for (Path jar : ImportEncoders.jarsOnClassPath()) {
                    OnnxEncoderImporter.importJar(jar, ModelRegistry.at(registry()).encodersDir());
                }
                ran.add("import-encoders");
                continue;
            }
            assertThat(command).as("a README line this test knows").startsWith("$T ");
            List<String> args = new ArrayList<>(Arrays.asList(command.substring(3).split(" +")));
            for (int i = 0; i < args.size(); i++) {
                if (args.get(i).startsWith("data/") || args.get(i).startsWith("runs/")) {
                    args.set(i, dir.resolve(args.get(i)).toString());
                }
            }
            if (args.get(0).equals("train")) {
                args.addAll(List.of("--feature-cache", dir.resolve("features").toString()));
            }
            TrainerRun run = TrainerRun.of(withRegistry(args), null);
            assertThat(run.exit()).as("%s%n%s", command, run.err()).isZero();
            ran.add(args.get(0));
            if (args.get(0).equals("train")) {
                // auto tries the poolings the encoder has: no pooler in an ONNX graph.
                assertThat(run.out())
                        .contains("validation loss by pooling")
                        .doesNotContain("pooler")
                        .contains("cascade: ");
            }
        }
        assertThat(ran).containsExactly("import-encoders", "train", "publish");
        assertThat(ModelRegistry.at(registry()).encoders().stream().map(e -> e.manifest().name()))
                .contains("bge-small-en-v1.5-int8", "all-minilm-l6-v2-int8");

        TrainerRun predicted =
                TrainerRun.of(
                        withRegistry(
                                List.of("predict", "--model", "spam-small", "--version", "latest")),
                        "{\"id\":\"1\",\"text\":\"WIN a FREE cruise, call now\"}");
        assertThat(predicted.exit()).as(predicted.err()).isZero();
        assertThat(predicted.out())
                .contains("\"model\":\"spam-small\"")
                .contains("\"modelVersion\":1")
                .containsPattern("\"stage\":\"(ngram|encoder)\"");
    }

    @Test
    void importEncoderTakesOneJarAndFineTuningItsInt8GraphIsRefusedWithWhatToDo() throws Exception {
        Path jar =
                ImportEncoders.jarOf(
                        getClass().getClassLoader().getResource("all-minilm-l6-v2-q.onnx"));
        TrainerRun imported =
                TrainerRun.of(
                        withRegistry(List.of("import-encoder", "--jar", jar.toString())), null);
        assertThat(imported.exit()).as(imported.err()).isZero();
        assertThat(imported.out())
                .contains("all-minilm-l6-v2-int8")
                .contains("--encoder all-minilm-l6-v2-int8");
        Path data = dir.resolve("spam.jsonl");
        JsonLines.write(data, TinyData.spamAndHam(10, 1));

        TrainerRun trained =
                TrainerRun.of(
                        withRegistry(
                                List.of(
                                        "train",
                                        "--data",
                                        data.toString(),
                                        "--model",
                                        "spam",
                                        "--fine-tune-layers",
                                        "1",
                                        "--feature-cache",
                                        dir.resolve("features").toString())),
                        null);
        assertThat(trained.exit()).isNotZero();
        assertThat(trained.err())
                .contains("is an 8-bit graph")
                .contains("import the encoder's float32 jar");
    }

    private Path registry() {
        return dir.resolve("registry");
    }

    private List<String> withRegistry(List<String> args) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of("--registry", registry().toString()));
        return all;
    }

    private static List<String> readmeBlock() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
        Matcher block = BLOCK.matcher(readme);
        assertThat(block.find()).as("the README's small-encoder block").isTrue();
        return List.of(block.group(1).split("\n"));
    }
}
