package dev.sift.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.schemas.RecordCodec;
import dev.sift.testing.kafka.KafkaTestCluster;
import dev.sift.trainer.TinyData;
import dev.sift.trainer.data.JsonLines;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "Train and serve your own model" block, run as written, on small data: each {@code
 * $T} line goes to {@code sift-trainer} with its own arguments. What differs, and why:
 *
 * <ul>
 *   <li>the registry holds the tiny test encoder instead of BERT-base (importing and encoding with
 *       BERT-base takes minutes; {@code ParityTest} and the failure matrix use it), so {@code
 *       train} also gets {@code --max-len 32} (the tiny encoder has 64 positions);
 *   <li>{@code corpus spamassassin} downloads 5,916 mails; here 80 generated ones stand in, written
 *       where the README's command writes the corpus, and 20 others, from another seed, stand in
 *       for the labeled file of the reader's own that {@code evaluate} scores;
 *   <li>relative paths ({@code data/}, {@code runs/}, the default {@code registry}) live in a
 *       temporary folder, features are cached there too, and {@code localhost:9092} is the test
 *       broker;
 *   <li>the two {@code mvn} lines build what this test already runs on ({@code .ci/run}'s {@code
 *       mvn -B verify} builds the jar).
 * </ul>
 *
 * A line this test does not know fails it: a changed README is a changed test.
 */
class ReadmeWalkthroughTest {

    private static final Pattern BLOCK =
            Pattern.compile(
                    "## Train and serve your own model\\s+```bash\\n(.*?)```", Pattern.DOTALL);

    private static final Pattern ECHO = Pattern.compile("^echo '(.*)' \\| \\$T (.*)$");

    @TempDir Path dir;

    @Test
    void theReadmesTrainingCommandsRunAsWritten() throws Exception {
        List<String> lines = readmeBlock();
        Path registry = dir.resolve("registry");
        KafkaTestCluster kafka = KafkaTestCluster.shared();
        String models = kafka.newTopic("sift.models", 1);
        List<String> ran = new ArrayList<>();

        for (String line : lines) {
            String command = line.replaceFirst("\\s+#.*$", "").trim();
            if (command.isEmpty()) {
                continue;
            }
            if (command.equals("mvn -q -pl model-core test-compile exec:java@import-bert")) {
                TinyBertEncoder.buildInto(ModelRegistry.at(registry).encodersDir());
                continue;
            }
            if (command.equals("mvn -q -pl model-trainer -am package -DskipTests")
                    || command.equals("T=\"java -jar model-trainer/target/sift-trainer.jar\"")) {
                continue;
            }
            String stdin = null;
            Matcher echo = ECHO.matcher(command);
            if (echo.matches()) {
                stdin = echo.group(1);
                command = "$T " + echo.group(2);
            }
            assertThat(command).as("a README line this test knows").startsWith("$T ");
            List<String> args = new ArrayList<>(Arrays.asList(command.substring(3).split(" +")));
            String subcommand = args.get(0);
            ran.add(subcommand);
            if (subcommand.equals("corpus")) {
                assertThat(args)
                        .containsExactly("corpus", "spamassassin", "--out", "data/spam.jsonl");
                Path corpus = local(args.get(3));
                Files.createDirectories(corpus.getParent());
                JsonLines.write(corpus, TinyData.spamAndHam(40, 1));
                continue;
            }
            for (int i = 0; i < args.size(); i++) {
                String arg = args.get(i);
                if (arg.startsWith("data/") || arg.startsWith("runs/")) {
                    args.set(i, local(arg).toString());
                } else if (arg.equals("localhost:9092")) {
                    args.set(i, kafka.bootstrapServers());
                }
            }
            if (subcommand.equals("evaluate")) {
                Path ownMail = Path.of(args.get(args.indexOf("--data") + 1));
                assertThat(ownMail).as("a file of the reader's own, not the corpus").doesNotExist();
                JsonLines.write(ownMail, TinyData.spamAndHam(10, 3));
            }
            args.addAll(List.of("--registry", registry.toString()));
            if (subcommand.equals("train")) {
                args.addAll(
                        List.of(
                                "--max-len",
                                "32",
                                "--feature-cache",
                                dir.resolve("features").toString()));
            }
            if (subcommand.equals("announce")) {
                args.addAll(List.of("--topic", models));
            }
            TrainerRun run = TrainerRun.of(args, stdin);
            assertThat(run.exit()).as("%s%n%s", command, run.err()).isZero();
            if (subcommand.equals("predict")) {
                assertThat(run.out()).contains("\"model\":\"spam\"").contains("\"modelVersion\":1");
            }
            if (subcommand.equals("list")) {
                assertThat(run.out()).contains("spam");
            }
        }

        assertThat(ran)
                .containsExactly(
                        "corpus", "train", "publish", "announce", "list", "evaluate", "predict");
        assertThat(local("runs/eval").resolve("evaluation.json")).exists();
        var sent = kafka.readCommitted(models, 1, Duration.ofSeconds(30)).get(0).value();
        ModelAnnouncement announced = RecordCodec.of(ModelAnnouncement.class).decode(sent);
        assertThat(announced.getName()).isEqualTo("spam");
        assertThat(
                        new ObjectMapper()
                                .readTree(local("runs/eval/evaluation.json").toFile())
                                .path("metrics")
                                .path("accuracy")
                                .asDouble())
                .isBetween(0.0, 1.0);
    }

    private Path local(String relative) {
        return dir.resolve(relative);
    }

    private static List<String> readmeBlock() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
        Matcher block = BLOCK.matcher(readme);
        assertThat(block.find()).as("the README's training block").isTrue();
        return List.of(block.group(1).split("\n"));
    }
}
