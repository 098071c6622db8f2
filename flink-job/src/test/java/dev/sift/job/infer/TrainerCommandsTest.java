package dev.sift.job.infer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.registry.ModelBundle;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.OutputFormat;
import dev.sift.serving.request.ClassifyRequest;
import dev.sift.serving.testing.TestModels;
import dev.sift.trainer.cli.SiftTrainer;
import dev.sift.trainer.eval.Evaluation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sift-trainer predict} and {@code evaluate} answer as the job does: on the tiny encoder,
 * each probability equals the inference operator's within 1e-6, and evaluate's figures are those of
 * the job's answers. (ParityTest checks predict on BERT-base.)
 */
class TrainerCommandsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final List<String> TEXTS =
            List.of(
                    "Congratulations! You have won a free cruise, call now",
                    "are we still on for lunch tomorrow?",
                    "the patch for the rules file is attached",
                    "CHEAP MEDS online no prescription needed",
                    "minutes of Tuesday's meeting are in the shared folder");

    @TempDir Path dir;

    private TestModels models;

    @BeforeEach
    void newRegistry() throws Exception {
        models = new TestModels(dir.resolve("registry"));
    }

    @Test
    void predictAnswersTextsAndPairsAsTheJobDoes() throws Exception {
        models.publish("spam", 3, Pooling.MEAN);
        List<ClassifyRequest> requests = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < TEXTS.size(); i++) {
            requests.add(TestModels.text("t" + i, TEXTS.get(i)));
            lines.add(request("t" + i).put("text", TEXTS.get(i)).toString());
        }
        ClassifyRequest pair = TestModels.text("p0", TEXTS.get(0));
        pair.textB = TEXTS.get(1);
        requests.add(pair);
        lines.add(request("p0").put("textA", TEXTS.get(0)).put("textB", TEXTS.get(1)).toString());

        List<ClassificationResult> predicted = predict(lines, "--model", "spam");

        assertSameAnswers(predicted, JobAnswers.of(registry(), requests));
    }

    @Test
    void predictServesTheAnnouncedVersionUnlessToldOtherwise() throws Exception {
        ModelBundle v1 = models.publish("spam", 3, Pooling.CLS);
        models.publishUnannounced("spam", 4, Pooling.CLS); // v2, newest, never announced
        List<String> lines = List.of(request("t0").put("text", TEXTS.get(0)).toString());

        assertThat(predict(lines, "--model", "spam").get(0).getModelVersion())
                .isEqualTo(v1.version());
        assertThat(
                        predict(lines, "--model", "spam", "--version", "latest")
                                .get(0)
                                .getModelVersion())
                .isEqualTo(2);
        assertThat(predict(lines, "--model", "spam", "--version", "2").get(0).getModelVersion())
                .isEqualTo(2);
    }

    @Test
    void predictReportsWhatTheJobWouldDeadLetterAndAnswersTheRest() throws Exception {
        models.publish("spam", 3, Pooling.CLS);
        List<String> lines =
                List.of(
                        request("t0").put("text", TEXTS.get(0)).toString(),
                        request("blank").put("text", "  ").toString(),
                        "not json at all",
                        request("t1").put("text", TEXTS.get(1)).toString());
        Path in = Files.write(dir.resolve("in.jsonl"), lines);
        Path out = dir.resolve("out.jsonl");

        int exit =
                trainer(
                        "predict",
                        registry(),
                        "spam",
                        "--input",
                        in.toString(),
                        "--output",
                        out.toString());

        assertThat(exit).as("a refused line makes the exit code 1").isEqualTo(1);
        assertThat(read(out)).extracting(ClassificationResult::getId).containsExactly("t0", "t1");
    }

    @Test
    void plainLinesAreTextsNumberedByLine() throws Exception {
        models.publish("spam", 3, Pooling.CLS);
        List<ClassificationResult> predicted =
                predict(List.of(TEXTS.get(0), "", TEXTS.get(1)), "--model", "spam", "--plain");

        assertThat(predicted).extracting(ClassificationResult::getId).containsExactly("1", "3");
        assertSameAnswers(
                predicted,
                JobAnswers.of(
                        registry(),
                        List.of(
                                TestModels.text("1", TEXTS.get(0)),
                                TestModels.text("3", TEXTS.get(1)))));
    }

    @Test
    void evaluateGivesTheFiguresOfTheJobsAnswers() throws Exception {
        ModelBundle model = models.publishBlended("spam", 5);
        models.record(TestModels.announcement(model, ModelAction.ACTIVATE));
        List<String> labels = model.manifest().labels();
        List<ClassifyRequest> requests = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        int[] y = new int[TEXTS.size() * 2];
        List<String> groups = new ArrayList<>();
        for (int i = 0; i < y.length; i++) {
            String text = TEXTS.get(i % TEXTS.size()) + (i >= TEXTS.size() ? " again" : "");
            y[i] = i % labels.size();
            groups.add(i % 3 == 0 ? "hard" : "easy");
            requests.add(TestModels.text("e" + i, text));
            ObjectNode row = JSON.createObjectNode();
            row.put("text", text).put("label", labels.get(y[i]));
            row.putObject("attributes").put("group", groups.get(i));
            lines.add(row.toString());
        }
        Path data = Files.write(dir.resolve("labeled.jsonl"), lines);
        Path out = dir.resolve("evaluation");

        int exit =
                trainer(
                        "evaluate",
                        registry(),
                        "spam",
                        "--data",
                        data.toString(),
                        "--out",
                        out.toString());

        assertThat(exit).isZero();
        List<ClassificationResult> job = JobAnswers.of(registry(), requests);
        float[][] p = new float[job.size()][];
        for (int i = 0; i < p.length; i++) {
            p[i] = probabilities(job.get(i));
        }
        Map<String, Double> expected = Evaluation.of(labels, p, y, groups).asMetrics();
        JsonNode written = JSON.readTree(out.resolve("evaluation.json").toFile());
        expected.forEach(
                (metric, value) ->
                        assertThat(written.path("metrics").path(metric).asDouble(Double.NaN))
                                .as(metric)
                                .isCloseTo(value, within(1e-6)));
        assertThat(written.path("ngramMetrics").path("accuracy").isNumber())
                .as("a blended version's n-gram model is scored alone beside it")
                .isTrue();
        assertThat(Files.readString(out.resolve("report.html"))).contains("spam", "n-gram");
    }

    @Test
    void evaluateRefusesLabelsTheModelDoesNotKnow() throws Exception {
        models.publish("spam", 3, Pooling.CLS);
        Path data =
                Files.write(
                        dir.resolve("labeled.jsonl"),
                        List.of("{\"text\":\"hello\",\"label\":\"phishing\"}"));

        int exit = trainer("evaluate", registry(), "spam", "--data", data.toString());

        assertThat(exit).isEqualTo(1);
    }

    private Path registry() {
        return models.registry().root();
    }

    private List<ClassificationResult> predict(List<String> lines, String... options)
            throws Exception {
        Path in = Files.write(dir.resolve("in-" + System.nanoTime() + ".jsonl"), lines);
        Path out = dir.resolve("out-" + System.nanoTime() + ".jsonl");
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "predict",
                                "--registry",
                                registry().toString(),
                                "--input",
                                in.toString(),
                                "--output",
                                out.toString()));
        args.addAll(List.of(options));
        assertThat(SiftTrainer.run(args.toArray(String[]::new))).isZero();
        return read(out);
    }

    /** Runs {@code sift-trainer command} on {@code model} in {@code registry}; its exit code. */
    static int trainer(String command, Path registry, String model, String... options) {
        List<String> args =
                new ArrayList<>(
                        List.of(command, "--registry", registry.toString(), "--model", model));
        args.addAll(List.of(options));
        return SiftTrainer.run(args.toArray(String[]::new));
    }

    static List<ClassificationResult> read(Path out) throws Exception {
        List<ClassificationResult> results = new ArrayList<>();
        for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
            results.add(OutputFormat.JSON.results().decode(line.getBytes(StandardCharsets.UTF_8)));
        }
        return results;
    }

    private static ObjectNode request(String id) {
        return JSON.createObjectNode().put("id", id);
    }

    private static float[] probabilities(ClassificationResult result) {
        float[] p = new float[result.getProbabilities().size()];
        for (int j = 0; j < p.length; j++) {
            p[j] = result.getProbabilities().get(j).getProbability();
        }
        return p;
    }

    /** Same ids, models, versions and labels, and every probability within 1e-6. */
    static void assertSameAnswers(
            List<ClassificationResult> predicted, List<ClassificationResult> job) {
        assertThat(predicted).hasSameSizeAs(job);
        for (int i = 0; i < job.size(); i++) {
            ClassificationResult ours = predicted.get(i);
            ClassificationResult theirs = job.get(i);
            assertThat(ours.getId()).isEqualTo(theirs.getId());
            assertThat(ours.getModel()).isEqualTo(theirs.getModel());
            assertThat(ours.getModelVersion()).isEqualTo(theirs.getModelVersion());
            assertThat(ours.getLabel()).as(ours.getId()).isEqualTo(theirs.getLabel());
            float[] p = probabilities(ours);
            float[] q = probabilities(theirs);
            assertThat(p.length).isEqualTo(q.length);
            for (int j = 0; j < p.length; j++) {
                assertThat((double) p[j])
                        .as("%s label %d", ours.getId(), j)
                        .isCloseTo(q[j], within(1e-6));
            }
        }
    }
}
