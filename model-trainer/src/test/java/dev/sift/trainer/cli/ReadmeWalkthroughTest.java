package dev.sift.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.head.ClassificationHead;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelDraft;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.ModelAnnouncement;
import dev.sift.schemas.RecordCodec;
import dev.sift.serving.models.AcceptedVersion;
import dev.sift.serving.models.ModelManager;
import dev.sift.testing.kafka.KafkaTestCluster;
import dev.sift.trainer.TinyData;
import dev.sift.trainer.data.JsonLines;
import dev.sift.trainer.publish.Announcer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
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

    private static final Pattern TRIALS_BLOCK =
            Pattern.compile(
                    "## Taking a new version live safely\\s+[^`]*```bash\\n(.*?)```",
                    Pattern.DOTALL);

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

    /**
     * The README's "Taking a new version live safely" block, as written but for the registry (three
     * published versions on the tiny test encoder, v2 recorded as serving) and the broker: every
     * announcement reaches the topic with its action, and a job's control plane accepts each in
     * turn, ending with v2 serving and no trial.
     */
    @Test
    void theReadmesTrialCommandsRunAsWrittenAndAJobAcceptsEach() throws Exception {
        ModelRegistry registry = ModelRegistry.at(dir.resolve("registry"));
        String encoder = TinyBertEncoder.buildInto(registry.encodersDir()).contentHash();
        List<ModelBundle> versions = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            versions.add(
                    registry.publish(
                            ModelDraft.builder("spam", encoder)
                                    .pooling(Pooling.CLS)
                                    .maxSeqLen(32)
                                    .head(
                                            new ClassificationHead(
                                                    new float[TinyBertEncoder.HIDDEN_SIZE * 2],
                                                    new float[2],
                                                    List.of("ham", "spam")))
                                    .build()));
        }
        Announcer.record(
                registry,
                Announcer.announcement(registry, versions.get(1), ModelAction.ACTIVATE, null));
        // What a job started before the commands read: v2 serving.
        List<byte[]> recordedBefore = ModelManager.recordedAnnouncements(registry, Set.of());
        KafkaTestCluster kafka = KafkaTestCluster.shared();
        String models = kafka.newTopic("sift.models", 1);

        List<String> lines = readmeBlock(TRIALS_BLOCK);
        int commands = 0;
        for (String line : lines) {
            String command = line.replaceFirst("\\s*#.*$", "").trim();
            if (command.isEmpty()) {
                continue;
            }
            assertThat(command).as("a README line this test knows").startsWith("$T announce ");
            List<String> args = new ArrayList<>(Arrays.asList(command.substring(3).split(" +")));
            args.replaceAll(arg -> arg.equals("localhost:9092") ? kafka.bootstrapServers() : arg);
            args.addAll(List.of("--registry", registry.root().toString(), "--topic", models));
            TrainerRun run = TrainerRun.of(args, null);
            assertThat(run.exit()).as("%s%n%s", command, run.err()).isZero();
            commands++;
        }

        RecordCodec<ModelAnnouncement> codec = RecordCodec.of(ModelAnnouncement.class);
        List<ModelAnnouncement> sent = new ArrayList<>();
        for (var record : kafka.readCommitted(models, commands, Duration.ofSeconds(30))) {
            sent.add(codec.decode(record.value()));
        }
        assertThat(sent)
                .extracting(a -> a.getAction() + " v" + a.getVersion())
                .containsExactly(
                        "SHADOW v3", "STOP_SHADOW v3", "CANARY v3", "ACTIVATE v3", "ROLL_BACK v2");
        assertThat(sent.get(2).getCanaryPercent()).isEqualTo(5.0);
        try (ModelManager job =
                new ModelManager(
                        registry,
                        null,
                        Set.of(),
                        new ModelManager.Events() {
                            @Override
                            public void refused(String model, String reason) {
                                throw new AssertionError("refused: " + reason);
                            }

                            @Override
                            public void serving(String model) {}
                        })) {
            job.start(recordedBefore);
            for (ModelAnnouncement announcement : sent) {
                assertThat(job.onAnnouncement(announcement))
                        .as(announcement.toString())
                        .isPresent();
            }
            AcceptedVersion last = job.accepted().get("spam");
            assertThat(last.version()).isEqualTo(2);
            assertThat(last.shadow()).isNull();
            assertThat(last.canary()).isNull();
        }
        assertThat(codec.decode(registry.recordedAnnouncement("spam").orElseThrow()))
                .as("what a job started afresh serves: the roll back, not a trial")
                .isEqualTo(sent.get(4));
    }

    private Path local(String relative) {
        return dir.resolve(relative);
    }

    private static List<String> readmeBlock() throws Exception {
        return readmeBlock(BLOCK);
    }

    private static List<String> readmeBlock(Pattern pattern) throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
        Matcher block = pattern.matcher(readme);
        assertThat(block.find()).as("the README's block " + pattern).isTrue();
        return List.of(block.group(1).split("\n"));
    }
}
