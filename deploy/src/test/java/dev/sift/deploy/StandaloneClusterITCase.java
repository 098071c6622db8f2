package dev.sift.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sift.job.Results;
import dev.sift.job.VersionProbe;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.registry.ModelBundle;
import dev.sift.schemas.ClassificationResult;
import dev.sift.schemas.ModelAction;
import dev.sift.schemas.RequestCodec;
import dev.sift.schemas.TextRequest;
import dev.sift.serving.testing.TestModels;
import dev.sift.testing.kafka.KafkaTestCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sift on a real standalone Flink cluster: {@code deploy/local-cluster.sh} starts a JobManager and
 * two TaskManagers as their own JVMs on the jars Maven resolved, and submits the packaged job jar
 * with Flink's own client, against a real Kafka broker.
 *
 * <p>The job classifies, picks up an announced model version, shows Sift's metrics in the
 * dashboard's REST API, is stopped with a savepoint while requests keep arriving, and is resumed
 * from it in the same TaskManagers: nothing is lost or duplicated, and the restored job serves the
 * version its state names rather than the registry's newest.
 *
 * <p>The resume runs a second job classloader in TaskManagers whose TensorFlow is already loaded.
 * That works only because TensorFlow sits in the cluster's lib/: tried with DJL and TensorFlow
 * bundled into the job jar instead, the resumed job killed both TaskManager JVMs (TensorFlow's
 * protobuf descriptors registered twice, "File already exists in database", then abort).
 */
class StandaloneClusterITCase {

    private static final Path DIST = Path.of(System.getProperty("sift.flink.dist", "target/flink"));
    private static final Path DEPLOY =
            Path.of(System.getProperty("sift.repo.root", "..")).resolve("deploy").normalize();
    private static final Path SCRIPT = DEPLOY.resolve("local-cluster.sh");

    /** Sift's own metrics; of a histogram, the statistics the Grafana dashboard shows. */
    private static final Pattern SIFT_METRICS =
            Pattern.compile(
                    "infer\\.(requestsIn|resultsOut|modelsRefused|queueDepth|.*deadLetters"
                            + "|model\\..*\\.activeVersion"
                            + "|(batchSize|batchLatencyMs|endToEndLatencyMs|paddingEfficiencyPct)"
                            + "_(median|p99|max))");

    /** Counted per subtask, so summed; gauges and histograms report their largest subtask. */
    private static final Pattern COUNTERS =
            Pattern.compile("requestsIn|resultsOut|Refused|deadLetters");

    /** A Prometheus metric name as Flink's reporter writes them. */
    private static final Pattern SERIES = Pattern.compile("flink_[A-Za-z0-9_]+");

    private static final Pattern QUANTILE =
            Pattern.compile("(flink_[A-Za-z0-9_]+)\\{quantile=\"([0-9.]+)\"\\}");

    /**
     * Dashboard series of a shadow version and of feedback: this test runs neither, so the reporter
     * has none of them (ComposeStackITCase checks them).
     */
    private static final Pattern NOT_IN_THIS_SCENARIO =
            Pattern.compile(".*_model_version_(shadow[A-Za-z]+|live[A-Za-z0-9]+|feedbackLabeled)");

    /** Every query of deploy/grafana/dashboards/sift.json, one per line. */
    private static final String DASHBOARD_EXPRESSIONS = dashboardExpressions();

    private static final Set<String> DASHBOARD_SERIES = dashboardSeries();

    /** The metric names in the dashboard's queries, but for those this test does not produce. */
    private static Set<String> dashboardSeries() {
        Set<String> names = new TreeSet<>();
        Matcher matcher = SERIES.matcher(DASHBOARD_EXPRESSIONS);
        while (matcher.find()) {
            if (!NOT_IN_THIS_SCENARIO.matcher(matcher.group()).matches()) {
                names.add(matcher.group());
            }
        }
        return names;
    }

    private static String dashboardExpressions() {
        List<String> expressions = new ArrayList<>();
        try {
            JsonNode dashboard =
                    new ObjectMapper()
                            .readTree(DEPLOY.resolve("grafana/dashboards/sift.json").toFile());
            for (JsonNode panel : dashboard.path("panels")) {
                for (JsonNode target : panel.path("targets")) {
                    expressions.add(target.path("expr").asText());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return String.join("\n", expressions);
    }

    /**
     * Scrapes every port of the reporter's range (each Flink process took one) until all {@code
     * wanted} series appear; returns the Sift series found, with their sample lines.
     */
    private static Map<String, List<String>> awaitPrometheusSeries(Set<String> wanted)
            throws InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Map<String, List<String>> found = new TreeMap<>();
        while (System.nanoTime() < deadline) {
            found.clear();
            for (int port = 9249; port <= 9259; port++) {
                String body;
                try {
                    body =
                            http.send(
                                            HttpRequest.newBuilder(
                                                            URI.create(
                                                                    "http://localhost:"
                                                                            + port
                                                                            + "/metrics"))
                                                    .timeout(Duration.ofSeconds(5))
                                                    .build(),
                                            HttpResponse.BodyHandlers.ofString())
                                    .body();
                } catch (IOException e) {
                    continue; // nothing on this port
                }
                for (String line : body.split("\n")) {
                    Matcher matcher = SERIES.matcher(line);
                    if (!line.startsWith("#") && matcher.lookingAt()) {
                        String name = matcher.group();
                        if (wanted.contains(name)) {
                            found.computeIfAbsent(name, n -> new ArrayList<>()).add(line);
                        }
                    }
                }
            }
            if (found.keySet().containsAll(wanted)) {
                break;
            }
            Thread.sleep(1_000);
        }
        return found;
    }

    /** Read until the time is up. */
    private static final int ALL = Integer.MAX_VALUE;

    @TempDir Path registryDir;
    @TempDir Path clusterDir;

    @Test
    void classifiesSwapsModelsAndResumesFromASavepointWithNothingLostOrDuplicated()
            throws Exception {
        KafkaTestCluster kafka = KafkaTestCluster.shared();
        String requests = kafka.newTopic("requests", 2);
        String results = kafka.newTopic("results", 2);
        String deadLetters = kafka.newTopic("dead-letters", 1);
        String models = kafka.newTopic("models", 1);
        TestModels registry = new TestModels(registryDir);
        registry.publish("spam", 1, Pooling.CLS);
        List<String> jobArgs =
                List.of(
                        "--sift.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                        "--sift.topics.requests=" + requests,
                        "--sift.topics.results=" + results,
                        "--sift.topics.dead-letters=" + deadLetters,
                        "--sift.topics.shadow=" + kafka.newTopic("shadow", 1),
                        "--sift.topics.feedback=" + kafka.newTopic("feedback", 1),
                        "--sift.topics.models=" + models,
                        "--sift.kafka.group-id=" + requests,
                        "--sift.registry=" + registryDir,
                        "--sift.parallelism=2",
                        "--sift.checkpoint.interval=1 s",
                        "--sift.batch.max-size=8",
                        "--sift.batch.max-wait=20 ms");

        try (LocalCluster cluster = new LocalCluster(SCRIPT, DIST, clusterDir)) {
            try {
                cluster.start();
                Set<String> taskManagers = taskManagerIds(cluster);
                assertThat(taskManagers).hasSize(2);

                String job = cluster.submit(jobArgs);
                cluster.awaitRunning(job, Duration.ofMinutes(2));
                kafka.send(requests, requests(0, 100));
                kafka.send(requests, List.of("not a request".getBytes(StandardCharsets.UTF_8)));
                assertThat(Results.read(kafka, results, 100, Duration.ofMinutes(2))).hasSize(100);
                assertThat(kafka.readCommitted(deadLetters, 1, Duration.ofMinutes(1))).hasSize(1);

                ModelBundle v2 = registry.publish("spam", 2, Pooling.MEAN);
                kafka.send(
                        models,
                        List.of(
                                TestModels.encode(
                                        TestModels.announcement(v2, ModelAction.ACTIVATE))));
                new VersionProbe(kafka, requests, results).await("spam", 2, Duration.ofSeconds(90));
                kafka.send(requests, requests(100, 150));
                awaitIds(kafka, results, 150);

                Map<String, String> metrics = awaitSiftMetrics(cluster, job);
                System.out.println("Sift metrics in the dashboard of job " + job + ":");
                metrics.forEach((name, value) -> System.out.printf("  %s = %s%n", name, value));
                assertThat(metrics.keySet())
                        .contains(
                                "infer.requestsIn",
                                "infer.resultsOut",
                                "infer.batchSize_median",
                                "infer.batchLatencyMs_p99",
                                "infer.endToEndLatencyMs_p99",
                                "infer.paddingEfficiencyPct_median",
                                "infer.queueDepth",
                                "infer.model.spam.activeVersion");
                assertThat(metrics.get("infer.model.spam.activeVersion")).isEqualTo("2.0");
                assertThat(Double.parseDouble(metrics.get("infer.requestsIn"))).isGreaterThan(150);

                // What Prometheus scrapes from the same processes: every series the Grafana
                // dashboard queries must be one the reporter really exports.
                Map<String, List<String>> exported = awaitPrometheusSeries(DASHBOARD_SERIES);
                System.out.println("Prometheus series the Sift dashboard reads, as exported:");
                exported.forEach(
                        (name, samples) ->
                                System.out.printf("  %s (%d samples)%n", name, samples.size()));
                assertThat(exported.keySet()).containsAll(DASHBOARD_SERIES);
                // Histograms are summaries: the quantiles the panels pick must be exported too.
                Matcher quantiles = QUANTILE.matcher(DASHBOARD_EXPRESSIONS);
                while (quantiles.find()) {
                    String quantile = "quantile=\"" + quantiles.group(2) + "\"";
                    assertThat(exported.get(quantiles.group(1)))
                            .as(quantiles.group())
                            .anySatisfy(sample -> assertThat(sample).contains(quantile));
                }

                String savepoint = cluster.stopWithSavepoint(job);
                // While the job is down: requests keep arriving, and the registry gets a v3 nobody
                // announced. A restored job must serve v2, which its state names; only a job that
                // lost its state would start on the registry's newest.
                kafka.send(requests, requests(150, 250));
                registry.publish("spam", 3, Pooling.CLS);

                String resumed = cluster.resume(savepoint, jobArgs);
                cluster.awaitRunning(resumed, Duration.ofMinutes(2));
                assertThat(taskManagerIds(cluster))
                        .as("the same TaskManager JVMs run the resumed job")
                        .isEqualTo(taskManagers);

                List<ClassificationResult> all = awaitIds(kafka, results, 250);
                Map<String, Long> perId =
                        all.stream()
                                .filter(r -> r.getId().startsWith("r-"))
                                .collect(
                                        Collectors.groupingBy(
                                                ClassificationResult::getId,
                                                Collectors.counting()));
                assertThat(perId)
                        .hasSize(250)
                        .allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
                Map<String, ClassificationResult> byId =
                        all.stream()
                                .collect(
                                        Collectors.toMap(
                                                ClassificationResult::getId,
                                                Function.identity(),
                                                (a, b) -> a));
                assertThat(byId.get("r-0").getModelVersion()).isEqualTo(1L);
                assertThat(byId.get("r-120").getModelVersion()).isEqualTo(2L);
                assertThat(byId.get("r-240").getModelVersion())
                        .as("the resumed job serves the version its state names")
                        .isEqualTo(2L);
                System.out.printf(
                        "After the restart: %d distinct requests answered, each exactly once; r-240"
                                + " served by v%d%n",
                        perId.size(), byId.get("r-240").getModelVersion());
            } catch (Throwable failure) {
                cluster.printLogTails(80); // what CI shows when this fails
                throw failure;
            }
        }
    }

    private static Set<String> taskManagerIds(LocalCluster cluster) {
        Set<String> ids = new TreeSet<>();
        for (JsonNode taskManager : cluster.get("/taskmanagers").path("taskmanagers")) {
            ids.add(taskManager.path("id").asText());
        }
        return ids;
    }

    /** The dashboard fetches metrics from the TaskManagers every few seconds: waits for ours. */
    private static Map<String, String> awaitSiftMetrics(LocalCluster cluster, String job)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Map<String, String> metrics = siftMetrics(cluster, job);
        // The REST metric store is refreshed at most every metrics.fetcher.update-interval (10 s):
        // a first read can predate the swap and the traffic, so wait for both to show.
        while (!("2.0".equals(metrics.get("infer.model.spam.activeVersion"))
                        && Double.parseDouble(metrics.getOrDefault("infer.requestsIn", "0")) > 150)
                && System.nanoTime() < deadline) {
            Thread.sleep(1_000);
            metrics = siftMetrics(cluster, job);
        }
        return metrics;
    }

    /**
     * The inference operator's metrics as the dashboard shows them, summed over subtasks: the REST
     * endpoint the Flink web UI reads.
     */
    private static Map<String, String> siftMetrics(LocalCluster cluster, String job) {
        Map<String, String> values = new TreeMap<>();
        for (JsonNode vertex : cluster.get("/jobs/" + job).path("vertices")) {
            String base = "/jobs/" + job + "/vertices/" + vertex.path("id").asText();
            List<String> names = new ArrayList<>();
            for (JsonNode metric : cluster.get(base + "/subtasks/metrics")) {
                String id = metric.path("id").asText();
                if (SIFT_METRICS.matcher(id).matches()) {
                    names.add(id);
                }
            }
            if (names.isEmpty()) {
                continue;
            }
            String query = base + "/subtasks/metrics?get=" + String.join(",", names);
            for (JsonNode metric : cluster.get(query)) {
                String id = metric.path("id").asText();
                boolean counter = COUNTERS.matcher(id).find();
                values.put(id, metric.path(counter ? "sum" : "max").asText());
            }
        }
        return values;
    }

    /** Reads until {@code distinct} request ids ("r-") have results, then a little longer. */
    private List<ClassificationResult> awaitIds(KafkaTestCluster kafka, String topic, int distinct)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        List<ClassificationResult> results = List.of();
        while (System.nanoTime() < deadline) {
            results = Results.read(kafka, topic, ALL, Duration.ofSeconds(3));
            long answered =
                    results.stream()
                            .map(ClassificationResult::getId)
                            .filter(id -> id.startsWith("r-"))
                            .distinct()
                            .count();
            if (answered >= distinct) {
                // One more checkpoint's worth, so a duplicate committed late would show.
                Thread.sleep(2_000);
                return Results.read(kafka, topic, ALL, Duration.ofSeconds(3));
            }
            Thread.sleep(500);
        }
        return results;
    }

    private static List<byte[]> requests(int from, int to) {
        RequestCodec codec = new RequestCodec();
        List<byte[]> values = new ArrayList<>();
        for (int i = from; i < to; i++) {
            String text = (i % 2 == 0 ? "win free cash now " : "meeting notes for tomorrow ") + i;
            values.add(
                    codec.encode(TextRequest.newBuilder().setId("r-" + i).setText(text).build()));
        }
        return values;
    }
}
