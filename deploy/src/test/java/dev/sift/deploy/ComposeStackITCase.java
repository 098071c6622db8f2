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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
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
 * scrapes Sift's series, every query of the Grafana dashboard returns data from the running job,
 * Prometheus's console page (deploy/prometheus/consoles/sift.html) shows the same figures in a real
 * headless Chromium (its screenshot kept in target/compose-stack/), and the whole project is
 * removed afterwards, volumes included, also when something failed.
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

    /**
     * Series the dashboard and the console page show that this scenario does not produce: their
     * queries may return nothing and the console page may say "no data yet" for them; every other
     * series and query must have data. Empty: the scenario runs a shadow and sends feedback.
     */
    static final Set<String> NOT_YET_PRODUCED_BY_THE_SCENARIO = Set.of();

    private static final String SHADOW = "sift.shadow";
    private static final String FEEDBACK = "sift.feedback";

    /** The corpus labels of the mails the requests carry, index for index. */
    private final List<String> labels = new ArrayList<>();

    /** Prometheus, as docker-compose.yml publishes it. */
    private static final String PROMETHEUS = "http://127.0.0.1:9090";

    /** What shows Sift's series, relative to the repository: each name in them must be scraped. */
    private static final Path DASHBOARD = Path.of("deploy/grafana/dashboards/sift.json");

    private static final Path ALERTS = Path.of("deploy/prometheus/sift-alerts.yml");
    private static final Path CONSOLE = Path.of("deploy/prometheus/consoles/sift.html");

    /** A Prometheus metric name as Flink's reporter writes them. */
    private static final Pattern SERIES = Pattern.compile("flink_[A-Za-z0-9_]+");

    /** Where the console page's DOM, its screenshot and the browser's log are kept. */
    private static final Path ARTIFACTS = Path.of("target", "compose-stack");

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
        // Before minutes of stack: fails at once, saying how to install one, without a browser.
        HeadlessBrowser browser = HeadlessBrowser.find(ARTIFACTS.resolve("browser"));
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

                // A third version in shadow beside v2: its answers on the shadow topic only.
                stack.run(
                        Duration.ofMinutes(5),
                        "run",
                        "--rm",
                        "--no-deps",
                        "--entrypoint",
                        "sh",
                        "trainer",
                        "-c",
                        "set -e; sift-trainer publish --run /var/lib/sift/runs/spam-2 --registry"
                                + " /var/lib/sift/registry --force; sift-trainer announce --model"
                                + " spam --shadow --registry /var/lib/sift/registry"
                                + " --bootstrap-servers kafka:9092 --signing-key"
                                + " /var/lib/sift/keys/sift-announce.pem");
                int shadowFrom = awaitShadowAnswers(kafka, mails, RECORDS + 100);
                List<ClassificationResult> withShadow =
                        awaitIds(kafka, shadowFrom + 50, Duration.ofMinutes(10));
                assertExactlyOnce(withShadow, shadowFrom + 50);
                assertThat(withShadow)
                        .as("a shadow's answers never reach the results topic")
                        .allSatisfy(r -> assertThat(r.getModelVersion()).isNotEqualTo(3L));
                List<ClassificationResult> shadowAnswers =
                        requestResults(Results.read(kafka, SHADOW, ALL, Duration.ofSeconds(3)));
                assertThat(shadowAnswers)
                        .allSatisfy(r -> assertThat(r.getModelVersion()).isEqualTo(3L));
                assertThat(shadowAnswers.stream().map(ClassificationResult::getId))
                        .as("one shadow answer to each of the last 50 requests")
                        .containsAll(ids(shadowFrom, shadowFrom + 50))
                        .doesNotHaveDuplicates();
                // Feedback: the corpus label of every mail sent, as a moderator would give it.
                kafka.send(FEEDBACK, feedback(0, shadowFrom + 50));
                System.out.printf(
                        "v3 in shadow: %d shadow answers, none among %d results; feedback on"
                                + " %d requests sent%n",
                        shadowAnswers.size(), withShadow.size(), shadowFrom + 50);

                assertPrometheusScrapesSift(shadowFrom + 50);
                assertConsolePageShowsTheStack(browser, 2L);
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
            JsonNode mail = JSON.readTree(line);
            texts.add(mail.path("text").asText());
            labels.add(mail.path("label").asText());
        }
        assertThat(texts).hasSizeGreaterThan(100);
        return texts;
    }

    /** The seed mounted into the trainer, and bootstrap-model.sh told to use it. */
    private Path writeOverride() throws IOException {
        Path dir = Files.createDirectories(ARTIFACTS).toAbsolutePath();
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

    /**
     * Sends requests 20 at a time from {@code from} until the shadow topic has an answer, then 50
     * more; returns where those 50 began.
     */
    private static int awaitShadowAnswers(KafkaTestCluster kafka, List<String> mails, int from)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        int next = from;
        while (requestResults(Results.read(kafka, SHADOW, ALL, Duration.ofSeconds(2))).isEmpty()) {
            assertThat(System.nanoTime()).as("the shadow answers").isLessThan(deadline);
            kafka.send(REQUESTS, requests(mails, next, next + 20));
            next += 20;
            Thread.sleep(2_000);
        }
        kafka.send(REQUESTS, requests(mails, next, next + 50));
        return next;
    }

    private static List<String> ids(int from, int to) {
        List<String> ids = new ArrayList<>();
        for (int i = from; i < to; i++) {
            ids.add("r-" + i);
        }
        return ids;
    }

    /** Feedback records for requests {@code from} to {@code to}: their mails' corpus labels. */
    private List<byte[]> feedback(int from, int to) {
        List<byte[]> values = new ArrayList<>();
        for (int i = from; i < to; i++) {
            String json =
                    JSON.createObjectNode()
                            .put("id", "r-" + i)
                            .put("model", MODEL)
                            .put("label", labels.get(i % labels.size()))
                            .toString();
            values.add(json.getBytes(StandardCharsets.UTF_8));
        }
        return values;
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
     * dashboard, the alert rules and the console page name is known (the drift gauges of the
     * version serving among them), every dashboard query returns data, the rules evaluate, and the
     * scraped request count covers what was sent. Series of {@link
     * #NOT_YET_PRODUCED_BY_THE_SCENARIO}, and queries reading only those, are let off.
     */
    private static void assertPrometheusScrapesSift(int sent) throws Exception {
        Set<String> wanted = new TreeSet<>(seriesNamedIn(DASHBOARD, ALERTS, CONSOLE));
        wanted.removeAll(NOT_YET_PRODUCED_BY_THE_SCENARIO);
        List<String> queries =
                dashboardQueries().stream()
                        .filter(q -> !NOT_YET_PRODUCED_BY_THE_SCENARIO.containsAll(seriesIn(q)))
                        .toList();
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        Set<String> health = new TreeSet<>();
        Set<String> known = new TreeSet<>();
        List<String> empty = new ArrayList<>();
        Set<String> rules = Set.of();
        double requestsIn = 0;
        while (System.nanoTime() < deadline) {
            health.clear();
            for (JsonNode target :
                    JSON.readTree(get(PROMETHEUS + "/api/v1/targets")).at("/data/activeTargets")) {
                health.add(
                        target.at("/labels/instance").asText()
                                + "="
                                + target.path("health").asText());
            }
            known.clear();
            JSON.readTree(get(PROMETHEUS + "/api/v1/label/__name__/values"))
                    .path("data")
                    .forEach(name -> known.add(name.asText()));
            requestsIn = 0;
            for (JsonNode sample : query("sum(flink_taskmanager_job_task_operator_requestsIn)")) {
                requestsIn = sample.path("value").get(1).asDouble();
            }
            empty.clear();
            for (String query : queries) {
                if (query(query).isEmpty()) {
                    empty.add(query);
                }
            }
            rules = ruleGroups();
            if (health.equals(Set.of("jobmanager:9249=up", "taskmanager:9249=up"))
                    && known.containsAll(wanted)
                    && empty.isEmpty()
                    && requestsIn >= sent
                    && rules.equals(LOADED_RULES)) {
                break;
            }
            Thread.sleep(2_000);
        }
        System.out.printf(
                "Prometheus: targets %s; %d of the %d series the dashboard, alert rules and console"
                        + " page name known; %d of the dashboard's %d queries return data (%d let"
                        + " off: not yet produced); requestsIn = %.0f%n",
                health,
                wanted.stream().filter(known::contains).count(),
                wanted.size(),
                queries.size() - empty.size(),
                queries.size(),
                dashboardQueries().size() - queries.size(),
                requestsIn);
        assertThat(health).containsExactlyInAnyOrder("jobmanager:9249=up", "taskmanager:9249=up");
        assertThat(known).containsAll(wanted);
        assertThat(empty).as("dashboard queries that return no data").isEmpty();
        assertThat(requestsIn).isGreaterThanOrEqualTo(sent);
        // deploy/prometheus/sift-alerts.yml, loaded and evaluated without error
        assertThat(rules).isEqualTo(LOADED_RULES);
    }

    /**
     * Prometheus's console page deploy/prometheus/consoles/sift.html, opened in headless Chromium
     * after the traffic: its figures, read from the rendered DOM by their data-figure names, are
     * the stack's (requests flowing, {@code servingVersion} of the spam model serving, both
     * versions' traffic, numeric drift figures, the dead letter sent); the sections on series not
     * yet produced say so. The DOM and a screenshot stay in target/compose-stack/.
     */
    private static void assertConsolePageShowsTheStack(HeadlessBrowser browser, long servingVersion)
            throws Exception {
        String url = PROMETHEUS + "/consoles/sift.html";
        String dom = browser.dumpDom(url);
        Files.writeString(ARTIFACTS.resolve("sift-console.html"), dom);
        Path png = ARTIFACTS.resolve("sift-console.png");
        browser.screenshot(url, png, 1280, 2000);
        assertThat(png).as("the console page's screenshot").isNotEmptyFile();
        assertThat(Arrays.copyOf(Files.readAllBytes(png), 8))
                .as("a PNG signature")
                .isEqualTo(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        Document page = Jsoup.parse(dom, url);
        System.out.printf(
                "Console page %s in Chromium: %s; screenshot %s%n",
                url, figures(page), png.toAbsolutePath());

        assertThat(page.title()).isEqualTo("Sift");
        assertThat(number(page, "#throughput-table", "requests-in-per-second"))
                .as("requests in per second")
                .isPositive();
        assertThat(number(page, "#throughput-table", "results-out-total"))
                .as("results out")
                .isGreaterThanOrEqualTo(RECORDS + 100);
        String model = "[data-model=" + MODEL + "]";
        assertThat(figure(page, "#serving-versions tr" + model, "serving-version").text())
                .as("the serving version of " + MODEL)
                .isEqualTo(Long.toString(servingVersion));
        for (long version = 1; version <= servingVersion; version++) {
            String row = "tr" + model + "[data-version=" + version + "]";
            assertThat(number(page, "#traffic-by-version " + row, "answers-total"))
                    .as("answers of v" + version)
                    .isPositive();
            for (String drift :
                    List.of(
                            "confidence-psi",
                            "mean-top-probability",
                            "low-confidence-pct",
                            "unknown-token-pct")) {
                assertThat(number(page, "#drift-by-version " + row, drift))
                        .as(drift + " of v" + version)
                        .isFinite();
            }
        }
        assertThat(page.select("#dead-letters-by-code")).as("the dead-letter table").hasSize(1);
        assertThat(
                        page
                                .select("#dead-letters-by-code td[data-figure=dead-letters-total]")
                                .stream()
                                .mapToDouble(cell -> Double.parseDouble(cell.text()))
                                .sum())
                .as("dead letters, every code")
                .isGreaterThanOrEqualTo(1);
        assertSectionHasDataOrSaysNotYet(
                page,
                "#shadow-by-version",
                "flink_taskmanager_job_task_operator_model_version_shadowAgreementPct",
                "shadow-agreement-pct");
        assertSectionHasDataOrSaysNotYet(
                page,
                "#live-accuracy-by-version",
                "flink_taskmanager_job_task_operator_model_version_liveAccuracyPct",
                "live-accuracy-pct");
    }

    /**
     * A section on {@code series}: while the scenario does not produce it, the table says "no data
     * yet"; once it does, it holds a row with a numeric {@code figure}.
     */
    private static void assertSectionHasDataOrSaysNotYet(
            Document page, String table, String series, String figure) {
        assertThat(page.select(table)).as(table).hasSize(1);
        if (NOT_YET_PRODUCED_BY_THE_SCENARIO.contains(series)) {
            assertThat(page.select(table + " tr[data-empty]").text())
                    .as(table + " before " + series + " exists")
                    .isEqualTo("no data yet");
        } else {
            assertThat(page.select(table + " td[data-figure=" + figure + "]"))
                    .as(table + ": " + figure)
                    .isNotEmpty()
                    .allSatisfy(cell -> assertThat(Double.parseDouble(cell.text())).isFinite());
        }
    }

    /** The one cell holding {@code figure} in the element {@code scope} selects. */
    private static Element figure(Document page, String scope, String figure) {
        List<Element> cells = page.select(scope + " td[data-figure=" + figure + "]");
        assertThat(cells).as(scope + " " + figure + " in\n" + page.body().html()).hasSize(1);
        return cells.get(0);
    }

    /** A figure's number; fails with the page's text where it holds none (no data yet, say). */
    private static double number(Document page, String scope, String figure) {
        String text = figure(page, scope, figure).text();
        assertThat(text).as(scope + " " + figure).matches("-?[0-9.]+(e[-+]?[0-9]+)?|NaN");
        return Double.parseDouble(text);
    }

    /** Every figure on the page, "name=value", for the log. */
    private static List<String> figures(Document page) {
        return page.select("td[data-figure]").stream()
                .map(cell -> cell.attr("data-figure") + "=" + cell.text())
                .toList();
    }

    /** The metric names the files (relative to the repository) name. */
    private static Set<String> seriesNamedIn(Path... files) throws IOException {
        Set<String> names = new TreeSet<>();
        for (Path file : files) {
            names.addAll(seriesIn(Files.readString(ROOT.resolve(file))));
        }
        return names;
    }

    private static Set<String> seriesIn(String text) {
        Set<String> names = new TreeSet<>();
        Matcher matcher = SERIES.matcher(text);
        while (matcher.find()) {
            names.add(matcher.group());
        }
        return names;
    }

    /** Every panel's PromQL queries in the Grafana dashboard. */
    private static List<String> dashboardQueries() throws IOException {
        List<String> queries = new ArrayList<>();
        for (JsonNode panel : JSON.readTree(ROOT.resolve(DASHBOARD).toFile()).path("panels")) {
            panel.path("targets").forEach(target -> queries.add(target.path("expr").asText()));
        }
        assertThat(queries).isNotEmpty();
        return queries;
    }

    /** An instant query's result vector. */
    private static JsonNode query(String promql) throws Exception {
        JsonNode answer =
                JSON.readTree(
                        get(
                                PROMETHEUS
                                        + "/api/v1/query?query="
                                        + URLEncoder.encode(promql, StandardCharsets.UTF_8)));
        assertThat(answer.path("status").asText()).as(promql).isEqualTo("success");
        return answer.at("/data/result");
    }

    /** The alert rule groups Prometheus loaded, each with the healths of its rules. */
    private static Set<String> ruleGroups() throws Exception {
        Set<String> groups = new TreeSet<>();
        for (JsonNode group : JSON.readTree(get(PROMETHEUS + "/api/v1/rules")).at("/data/groups")) {
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
