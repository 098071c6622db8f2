package dev.sift.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.job.Results;
import dev.sift.job.VersionProbe;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.RequestCodec;
import dev.sift.schemas.TextRequest;
import dev.sift.testing.kafka.KafkaTestCluster;
import dev.sift.trainer.cli.SiftTrainer;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker-compose.yml run for real on a Docker engine (profile {@code containers}): the images built
 * from deploy/docker/Dockerfile, Kafka, the Flink JobManager and TaskManager, the one-shot trainer
 * and submitter, and Prometheus, every service but Grafana (no image of it here). Official images,
 * or the local stand-ins of the same names that deploy/images/build.sh builds.
 *
 * <p>The trainer bootstraps the spam model through the same bootstrap-model.sh without downloading
 * anything in its container: a tiny BERT-shaped encoder built by the test and real SpamAssassin
 * mails prepared on this side. With {@code -Dsift.stack.bert=true} it imports the real BERT-base
 * instead. Traffic goes through Kafka's published loopback port only: every result is read once
 * with read_committed, a second version announced through the trainer is seen serving, Prometheus
 * scrapes Sift's series, and the whole project is removed afterwards, volumes included, also when
 * something failed.
 */
class ComposeStackITCase {

    private static final Path ROOT =
            Path.of(System.getProperty("sift.repo.root", "..")).toAbsolutePath().normalize();
    private static final boolean BERT = Boolean.getBoolean("sift.stack.bert");

    /** Requests of the throughput phase. */
    private static final int RECORDS = Integer.getInteger("sift.stack.records", 200);

    private static final String MODEL = "spam";

    /** Tokens per input: the tiny encoder takes 64. */
    private static final int MAX_LEN = BERT ? 128 : 64;

    private static final String REQUESTS = "sift.requests";
    private static final String RESULTS = "sift.results";
    private static final String DEAD_LETTERS = "sift.dead-letters";
    private static final List<String> SERVICES =
            List.of(
                    "kafka",
                    "topics",
                    "trainer",
                    "jobmanager",
                    "taskmanager",
                    "submitter",
                    "prometheus");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The rule groups of deploy/prometheus/sift-alerts.yml, each rule evaluated without error. */
    private static final Set<String> LOADED_RULES = Set.of("sift-drift=ok", "sift-serving=ok");

    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** Read until the time is up. */
    private static final int ALL = Integer.MAX_VALUE;

    /** When {@link #awaitIds} last saw every request answered. */
    private static long allAnsweredAt;

    @TempDir Path seed;

    @Test
    void theStackClassifiesSwapsModelsAndIsScrapedWithNothingLostOrDuplicated() throws Exception {
        List<String> mails = seedTrainer();
        Path override = writeOverride();
        try (ComposeProject stack =
                new ComposeProject(
                        ROOT,
                        "sift-stack-it",
                        List.of(ROOT.resolve("docker-compose.yml"), override))) {
            try {
                long started = System.nanoTime();
                stack.run(Duration.ofMinutes(40), "build", "trainer", "jobmanager");
                System.out.printf("images built in %d s%n", seconds(started));
                started = System.nanoTime();
                List<String> up = new ArrayList<>(List.of("up", "--detach"));
                up.addAll(SERVICES);
                stack.run(Duration.ofMinutes(BERT ? 30 : 15), up.toArray(String[]::new));
                String job = awaitRunningJob(Duration.ofMinutes(3));
                System.out.printf(
                        "stack up, trainer done, job %s running in %d s%n", job, seconds(started));

                KafkaTestCluster kafka = KafkaTestCluster.connect("127.0.0.1:9094");
                started = System.nanoTime();
                kafka.send(REQUESTS, requests(mails, 0, RECORDS));
                List<ClassificationResult> first = awaitIds(kafka, RECORDS, Duration.ofMinutes(30));
                double elapsed = (allAnsweredAt - started) / 1e9;
                System.out.printf(
                        "%d requests through 127.0.0.1:9094 classified in %.1f s: %.1f records/s"
                                + " (%s encoder)%n",
                        RECORDS, elapsed, RECORDS / elapsed, BERT ? "BERT-base" : "tiny test");
                assertExactlyOnce(first, RECORDS);
                assertThat(first).allSatisfy(r -> assertThat(r.getModelVersion()).isEqualTo(1L));
                // A record that is no request goes to the dead letters (and its counter exists).
                kafka.send(REQUESTS, List.of("not a request".getBytes(StandardCharsets.UTF_8)));
                assertThat(kafka.readCommitted(DEAD_LETTERS, 1, Duration.ofMinutes(2))).hasSize(1);
                printContainerMemory();

                // A second version, trained, published and announced on Kafka by the trainer.
                stack.run(
                        Duration.ofMinutes(BERT ? 30 : 10),
                        "run",
                        "--rm",
                        "--no-deps",
                        "--entrypoint",
                        "sh",
                        "trainer",
                        "-c",
                        "set -e; sift-trainer train --data /var/lib/sift/seed/spam.jsonl"
                                + " --model spam --pooling mean --max-len "
                                + MAX_LEN
                                + " --registry /var/lib/sift/registry --out"
                                + " /var/lib/sift/runs/spam-2; sift-trainer publish --run"
                                + " /var/lib/sift/runs/spam-2 --registry /var/lib/sift/registry"
                                + " --force; sift-trainer announce --model spam --registry"
                                + " /var/lib/sift/registry --bootstrap-servers kafka:9092"
                                + " --signing-key /var/lib/sift/keys/sift-announce.pem");
                new VersionProbe(kafka, REQUESTS, RESULTS).await(MODEL, 2, Duration.ofMinutes(3));
                kafka.send(REQUESTS, requests(mails, RECORDS, RECORDS + 100));
                List<ClassificationResult> all =
                        awaitIds(kafka, RECORDS + 100, Duration.ofMinutes(30));
                assertExactlyOnce(all, RECORDS + 100);
                Map<String, ClassificationResult> byId =
                        all.stream()
                                .collect(
                                        Collectors.toMap(
                                                ClassificationResult::getId,
                                                Function.identity(),
                                                (a, b) -> a));
                assertThat(byId.get("r-" + (RECORDS + 99)).getModelVersion())
                        .as("served after the announcement")
                        .isEqualTo(2L);
                System.out.printf(
                        "%d requests answered exactly once (read_committed); after the"
                                + " announcement, %s v%d serves%n",
                        RECORDS + 100, MODEL, byId.get("r-" + (RECORDS + 99)).getModelVersion());

                assertPrometheusScrapesSift(RECORDS + 100);
            } catch (Throwable failure) {
                stack.printLogs(150);
                throw failure;
            }
        }
    }

    /**
     * What the trainer gets instead of downloading in its container: an encoder bundle (the tiny
     * test encoder; none for BERT-base, which the image holds) and 100 real mails per group of the
     * SpamAssassin corpus, converted by the trainer's own corpus command on this side (from the
     * corpus cache the main build filled; the command fetches the corpus if the cache is empty).
     * Returns the mails' texts, for requests.
     */
    private List<String> seedTrainer() throws IOException {
        Files.setPosixFilePermissions(seed, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (!BERT) {
            TinyBertEncoder.buildInto(seed.resolve("encoders"));
        }
        // The trainer runs as its own user: everything it reads must be world-readable.
        try (var files = Files.walk(seed)) {
            for (Path file : files.toList()) {
                Files.setPosixFilePermissions(
                        file,
                        PosixFilePermissions.fromString(
                                Files.isDirectory(file) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        Path mails = seed.resolve("spam.jsonl");
        int exit =
                SiftTrainer.run(
                        "corpus", "spamassassin", "--per-group", "100", "--out", mails.toString());
        assertThat(exit).as("sift-trainer corpus spamassassin").isZero();
        Files.setPosixFilePermissions(mails, PosixFilePermissions.fromString("rw-r--r--"));
        List<String> texts = new ArrayList<>();
        for (String line : Files.readAllLines(mails)) {
            texts.add(JSON.readTree(line).path("text").asText());
        }
        assertThat(texts).hasSizeGreaterThan(100);
        return texts;
    }

    /** The seed mounted into the trainer, and bootstrap-model.sh told to use it. */
    private Path writeOverride() throws IOException {
        Path dir = Files.createDirectories(Path.of("target", "compose-stack")).toAbsolutePath();
        StringBuilder yaml = new StringBuilder();
        yaml.append("services:\n  trainer:\n    environment:\n")
                .append("      SIFT_BOOTSTRAP_DATA: /var/lib/sift/seed/spam.jsonl\n")
                .append("      SIFT_BOOTSTRAP_MAX_LEN: \"")
                .append(MAX_LEN)
                .append("\"\n");
        if (!BERT) {
            yaml.append("      SIFT_BOOTSTRAP_ENCODERS: /var/lib/sift/seed/encoders\n");
        }
        yaml.append("    volumes:\n      - ").append(seed).append(":/var/lib/sift/seed:ro\n");
        Path override = dir.resolve("override.yml");
        Files.writeString(override, yaml);
        System.out.println("Compose override " + override + ":\n" + yaml);
        return override;
    }

    /**
     * The id of the job the submitter submitted, once the dashboard's REST API shows it RUNNING.
     */
    private static String awaitRunningJob(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode jobs = null;
        while (System.nanoTime() < deadline) {
            try {
                jobs = JSON.readTree(get("http://127.0.0.1:8081/jobs/overview")).path("jobs");
                for (JsonNode job : jobs) {
                    if (job.path("state").asText().equals("RUNNING")) {
                        return job.path("jid").asText();
                    }
                }
            } catch (IOException notYet) {
                // the JobManager is still starting
            }
            Thread.sleep(1_000);
        }
        throw new AssertionError("no job RUNNING within " + timeout + ": " + jobs);
    }

    /** Reads until {@code distinct} request ids ("r-") have results, then a little longer. */
    private static List<ClassificationResult> awaitIds(
            KafkaTestCluster kafka, int distinct, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<ClassificationResult> results = List.of();
        while (System.nanoTime() < deadline) {
            results = requestResults(Results.read(kafka, RESULTS, ALL, Duration.ofSeconds(3)));
            if (results.stream().map(ClassificationResult::getId).distinct().count() >= distinct) {
                allAnsweredAt = System.nanoTime();
                // One more checkpoint interval, so a duplicate committed late would show.
                Thread.sleep(12_000);
                return requestResults(Results.read(kafka, RESULTS, ALL, Duration.ofSeconds(3)));
            }
            Thread.sleep(1_000);
        }
        return results;
    }

    private static List<ClassificationResult> requestResults(List<ClassificationResult> all) {
        return all.stream().filter(r -> r.getId().startsWith("r-")).toList();
    }

    private static void assertExactlyOnce(List<ClassificationResult> results, int requests) {
        Map<String, Long> perId =
                results.stream()
                        .collect(
                                Collectors.groupingBy(
                                        ClassificationResult::getId, Collectors.counting()));
        assertThat(perId).hasSize(requests).allSatisfy((id, n) -> assertThat(n).as(id).isOne());
    }

    private static List<byte[]> requests(List<String> texts, int from, int to) {
        RequestCodec codec = new RequestCodec();
        List<byte[]> values = new ArrayList<>();
        for (int i = from; i < to; i++) {
            values.add(
                    codec.encode(
                            TextRequest.newBuilder()
                                    .setId("r-" + i)
                                    .setText(texts.get(i % texts.size()))
                                    .build()));
        }
        return values;
    }

    /**
     * Prometheus, through its published port: both Flink targets are up, every series the Grafana
     * dashboard and the alert rules query is known (the drift gauges of the version serving among
     * them), the rules evaluate, and the scraped request count covers what was sent.
     */
    private static void assertPrometheusScrapesSift(int sent) throws Exception {
        Set<String> wanted = dashboardSeries();
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        Set<String> health = new TreeSet<>();
        Set<String> known = new TreeSet<>();
        Set<String> rules = Set.of();
        double requestsIn = 0;
        while (System.nanoTime() < deadline) {
            health.clear();
            for (JsonNode target :
                    JSON.readTree(get("http://127.0.0.1:9090/api/v1/targets"))
                            .at("/data/activeTargets")) {
                health.add(
                        target.at("/labels/instance").asText()
                                + "="
                                + target.path("health").asText());
            }
            known.clear();
            JSON.readTree(get("http://127.0.0.1:9090/api/v1/label/__name__/values"))
                    .path("data")
                    .forEach(name -> known.add(name.asText()));
            requestsIn = 0;
            for (JsonNode sample :
                    JSON.readTree(
                                    get(
                                            "http://127.0.0.1:9090/api/v1/query?query="
                                                    + URLEncoder.encode(
                                                            "sum(flink_taskmanager_job_task_operator_requestsIn)",
                                                            StandardCharsets.UTF_8)))
                            .at("/data/result")) {
                requestsIn = sample.path("value").get(1).asDouble();
            }
            rules = ruleGroups();
            if (health.equals(Set.of("jobmanager:9249=up", "taskmanager:9249=up"))
                    && known.containsAll(wanted)
                    && requestsIn >= sent
                    && rules.equals(LOADED_RULES)) {
                break;
            }
            Thread.sleep(2_000);
        }
        System.out.printf(
                "Prometheus: targets %s; %d of the %d series the dashboard and alert rules query"
                        + " known; requestsIn = %.0f%n",
                health, wanted.stream().filter(known::contains).count(), wanted.size(), requestsIn);
        assertThat(health).containsExactlyInAnyOrder("jobmanager:9249=up", "taskmanager:9249=up");
        assertThat(known).containsAll(wanted);
        assertThat(requestsIn).isGreaterThanOrEqualTo(sent);
        // deploy/prometheus/sift-alerts.yml, loaded and evaluated without error
        assertThat(rules).isEqualTo(LOADED_RULES);
    }

    /** The metric names the Grafana dashboard and the alert rules query. */
    private static Set<String> dashboardSeries() throws IOException {
        Set<String> names = new TreeSet<>();
        for (String file :
                List.of(
                        "deploy/grafana/dashboards/sift.json",
                        "deploy/prometheus/sift-alerts.yml")) {
            Matcher matcher =
                    Pattern.compile("flink_[A-Za-z0-9_]+")
                            .matcher(Files.readString(ROOT.resolve(file)));
            while (matcher.find()) {
                names.add(matcher.group());
            }
        }
        return names;
    }

    /** The alert rule groups Prometheus loaded, each with the healths of its rules. */
    private static Set<String> ruleGroups() throws Exception {
        Set<String> groups = new TreeSet<>();
        for (JsonNode group :
                JSON.readTree(get("http://127.0.0.1:9090/api/v1/rules")).at("/data/groups")) {
            Set<String> health = new TreeSet<>();
            group.path("rules").forEach(rule -> health.add(rule.path("health").asText()));
            groups.add(group.path("name").asText() + "=" + String.join(",", health));
        }
        return groups;
    }

    private static void printContainerMemory() throws Exception {
        ComposeProject.exec(
                List.of(
                        "docker",
                        "stats",
                        "--no-stream",
                        "--format",
                        "{{.Name}}\t{{.MemUsage}}\t{{.CPUPerc}}"),
                ROOT,
                Duration.ofMinutes(1));
    }

    private static String get(String url) throws IOException, InterruptedException {
        HttpResponse<String> response =
                HTTP.send(
                        HttpRequest.newBuilder(URI.create(url))
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException(url + " answered " + response.statusCode());
        }
        return response.body();
    }

    private static long seconds(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1_000_000_000;
    }
}
